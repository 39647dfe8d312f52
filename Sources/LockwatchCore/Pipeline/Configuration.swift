// Pipeline: the configuration and the wiring of the stages.

/// Everything a run needs to know, built once by the command layer.
public struct Configuration: Sendable {
    public var thresholds = Thresholds()
    /// `--input-format`.
    public var inputFormat: InputFormat = .auto
    /// `--tz`: the zone of timestamps without one.
    public var zone: ZoneRule = .utc
    /// `--year`: the year of syslog timestamps.
    public var year: Int?
    /// `--max-line-bytes`: longer lines are cut and the prefix analysed.
    public var maxLineBytes = 1 << 20
    /// Bytes of whole lines per chunk handed to a worker; small values exercise the splitter in tests.
    public var readChunkBytes = 512 << 10
    /// Threads that read, decode and match chunks (the correlation runs on the calling thread).
    public var workers = 2
    /// Whether workers take plain text lines through the plain lane (`PlainLane`); off,
    /// every line goes through the general decoder and matcher (tests compare the two).
    public var plainLane = true
    /// Whether rules with a shortcut (`Shortcut`: the built-in patterns) are decided by its
    /// literal tests where they decide; off, every pattern runs (tests compare the two).
    public var ruleShortcuts = true
    /// `--max-keys`: lock keys tracked at most; beyond, the longest closed ones are evicted.
    public var maxKeys = 100_000
    /// `--shard K/N`: only the profiles of this shard are correlated (`Shard`).
    public var shard: Shard?
    /// Lock records held at most to merge the hosts of regular files (72 bytes each); beyond,
    /// they are ordered as a live stream's are (`Reorderer`).
    public var maxHeld = 1 << 16
    /// `--metrics-file`: the Prometheus exposition, rewritten atomically every
    /// `metricsInterval` of wall time and at the end (node_exporter's textfile collector).
    public var metricsFile: String?
    /// Keep metrics for an exposition other than the file (`--metrics-listen`).
    public var metricsServed = false
    public var metricsInterval = TimeSpan.seconds(15)
    /// `--metrics-max-series`: lock keys with series of their own at most.
    public var metricsMaxSeries = 10_000
    /// `--state`: the file the run's state is loaded from and saved to, so that a restarted
    /// run continues (one input only).
    public var stateFile: String?
    /// How often the state is saved when no output forces it.
    public var stateInterval = TimeSpan.seconds(5)
    /// The recognition rules, tried in order.
    public var rules: [Rule] = DefaultRules.rules()

    public init() {}

    /// The literal prefilter the rules allow: every literal of every rule, plus those that
    /// admit journald messages stored as byte arrays (compact, as journalctl writes them, or
    /// with a space, as other JSON writers do). A rule without literals admits every line.
    public var prefilter: Prefilter {
        if rules.contains(where: { $0.literals.isEmpty }) { return .everything }
        return Prefilter(literals: rules.flatMap(\.literals) + [Literal(#""MESSAGE":["#), Literal(#""MESSAGE": ["#)])
    }
}

/// What only the command layer may know: the wall clock and the terminal. Passed in, so that
/// the core stays deterministic: it never reads the clock itself.
public struct RunEnvironment: Sendable {
    /// The moment a line is read, for lines that carry no time at all.
    public var readClock: @Sendable () -> EventTime
    /// The current year, for syslog timestamps when no full timestamp has been seen.
    public var currentYear: Int
    /// The moment the run started, when known: a syslog time is never put more than a day
    /// after it (a year is inferred as the latest that does not). nil uses `currentYear`.
    public var now: EventTime?
    /// For live streams (pipes, terminals): release held records once the input has been
    /// silent this long. nil never does (a replay, where only the end releases them).
    public var idleFlushMilliseconds: Int32?
    /// Where warnings about the input go (stderr in the command). Called on the caller's thread.
    public var warn: @Sendable (String) -> Void

    public init(readClock: @escaping @Sendable () -> EventTime = { EventTime(micros: 0) }, currentYear: Int = 1970,
                now: EventTime? = nil, idleFlushMilliseconds: Int32? = nil,
                warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.readClock = readClock
        self.currentYear = currentYear
        self.now = now
        self.idleFlushMilliseconds = idleFlushMilliseconds
        self.warn = warn
    }
}

/// Exit statuses, decided in one place: 0 no escalation, 1 escalation, 2 error (which wins).
public enum ExitStatus {
    public static let clean: Int32 = 0
    public static let escalated: Int32 = 1
    public static let error: Int32 = 2

    /// The status of a run with these escalations and input errors.
    public static func of(escalations: Int, inputErrors: Int) -> Int32 {
        inputErrors > 0 ? error : escalations > 0 ? escalated : clean
    }
}
