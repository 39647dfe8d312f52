// When the pipeline saves its state and refreshes its metrics: wall-time schedules kept apart
// from the stages, so that the pipeline only asks whether something is due.

/// When the state is saved (`--state`), and how the saves went.
///
/// A save is due at a chunk boundary, where everything read so far has been applied: when a
/// live input has gone idle or the run waits for more of it, with events pending — at most
/// every 20 ms while it streams, so that a backlog is not read a save per chunk; when many
/// events are pending; and when `interval` has passed. Saves take at most a tenth of the time,
/// unless the events pending grow large.
struct StateCheckpoint {
    let path: String
    let interval: TimeSpan
    /// Events decided since the last save.
    var eventsSinceSave = 0
    /// Whether records were applied since the last save.
    var appliedSinceSave = false
    /// When the last save started (wall time).
    private(set) var lastSave: EventTime?
    /// How long the last save took.
    private var lastCost = TimeSpan.zero
    /// Whether the last save failed (said once on stderr, counted as an input error).
    private(set) var failed = false

    init(path: String, interval: TimeSpan) {
        self.path = path
        self.interval = interval
    }

    /// Whether a save is due at `now`; `waiting`: the run is about to wait for a live input
    /// (or it went idle).
    func isDue(now: EventTime, waiting: Bool, live: Bool) -> Bool {
        let since = lastSave.map { now - $0 } ?? .seconds(1e9)
        let spaced = since >= max(.seconds(0.02), lastCost * 10)
        let soon = waiting && live && spaced
        let many = eventsSinceSave >= 65_536 || (eventsSinceSave >= 4096 && spaced)
        return (eventsSinceSave > 0 && (soon || many)) || ((appliedSinceSave || eventsSinceSave > 0) && since >= interval)
    }

    /// Saves `state` and writes out the events it covers: the state is written to a temporary
    /// file first, the events next (`flush`), and the rename last — a run killed before the
    /// rename leaves the previous state, whose continuation prints those events again; after
    /// it, the events are out. Only a kill while the events are being written repeats events
    /// (those already written), which is long only when stdout is a pipe that is not read.
    /// `started`: when the save began (the state's `savedAt`); `clock` measures its cost.
    mutating func save(_ state: SavedState, started: EventTime, clock: () -> EventTime, flush: () -> Void,
                       warn: (String) -> Void) {
        lastSave = started
        defer { lastCost = clock() - started }
        do {
            try writeAtomically(try StateFile.encode(state), to: path, what: "state") { flush() }
            failed = false
        } catch {
            flush()
            if !failed { warn("\(error)") }
            failed = true
        }
        eventsSinceSave = 0
        appliedSinceSave = false
    }
}

/// When the metrics are brought up to date and the metrics file rewritten (wall time).
struct MetricsSchedule {
    /// How often the metrics file is rewritten (`--metrics-interval`).
    let fileInterval: TimeSpan
    private var recordsSinceClock = 0
    private var lastRefresh: EventTime?
    private var lastWrite: EventTime?
    /// Whether writing the file has failed (said once on stderr).
    private var writeFailed = false

    init(fileInterval: TimeSpan) { self.fileInterval = fileInterval }

    /// Counts one record applied; true every `every` records, when the clock is worth reading.
    mutating func recordApplied(every: Int) -> Bool {
        recordsSinceClock += 1
        guard recordsSinceClock >= every else { return false }
        recordsSinceClock = 0
        return true
    }

    /// Whether the metrics are brought up to date at `now`: about once a second, and whenever
    /// a live input falls silent (`idle`, for scrapes).
    mutating func refreshDue(now: EventTime, idle: Bool) -> Bool {
        guard idle || lastRefresh.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
        lastRefresh = now
        return true
    }

    /// Whether the metrics file is rewritten at `now`.
    func writeDue(now: EventTime) -> Bool { lastWrite.map { now - $0 >= fileInterval } ?? true }

    /// Notes a write of the file at `now`.
    mutating func wrote(at now: EventTime) { lastWrite = now }

    /// Notes a failed write; true the first time, when it is said.
    mutating func writeFailedFirst() -> Bool {
        defer { writeFailed = true }
        return !writeFailed
    }
}
