// LockwatchCore: the pipeline stages of lockwatch.
//
// bytes ─▶ lines ─▶ records ─▶ lock events ─▶ episodes & escalations ─▶ sinks
// Input    Input    Decoding   Matching       Correlation              Reporting
//
// One shortcut crosses two stages: the workers' plain lane (`RecordDecoder.decodeInPlace`,
// `Matcher.matchInPlace`, CScan's lane.c) takes the commonest lock line — plain text, its time
// first, key=value fields — through Decoding and Matching where it lies in the chunk. Every
// other line goes the general way; a test and the fuzz target hold the two equal.
