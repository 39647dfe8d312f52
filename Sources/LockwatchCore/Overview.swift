// LockwatchCore: the pipeline stages of lockwatch.
//
// bytes ─▶ lines ─▶ records ─▶ lock events ─▶ episodes & escalations ─▶ sinks
// Input    Input    Decoding   Matching       Correlation              Reporting
//
// One shortcut crosses two stages: the workers' plain lane (`PlainLane`) takes the commonest
// lock line — plain text, its time first, key=value fields — through Decoding and Matching
// where it lies in the chunk, without copying it. It decides nothing of its own: it calls the
// functions the general path calls (`textEnvelope`, `leadingTime`, `KeyValueScanner.fill`,
// `Matcher.build`) and only declines the lines it cannot read in place. A test and the fuzz target hold the two equal.
