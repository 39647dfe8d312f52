// LockwatchCore: the pipeline stages of lockwatch.
//
// bytes ─▶ lines ─▶ records ─▶ lock events ─▶ episodes & escalations ─▶ sinks
// Input    Input    Decoding   Matching       Correlation              Reporting
