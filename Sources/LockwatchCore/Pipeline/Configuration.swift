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
    /// Bytes asked of each read(2); small values exercise the line splitter in tests.
    public var readChunkBytes = 256 << 10
    /// The recognition rules, tried in order.
    public var rules: [Rule] = DefaultRules.rules()

    public init() {}

    /// The literal prefilter the rules allow: every literal of every rule, plus the one that
    /// admits journald messages stored as byte arrays. A rule without literals admits every line.
    public var prefilter: Prefilter {
        if rules.contains(where: { $0.literals.isEmpty }) { return .everything }
        return Prefilter(literals: rules.flatMap(\.literals) + [#""MESSAGE":["#])
    }
}

/// What only the command layer may know: the wall clock and the terminal. Passed in, so that
/// the core stays deterministic (STYLE habit 5).
public struct RunEnvironment {
    /// The moment a line is read, for lines that carry no time at all.
    public var readClock: () -> EventTime
    /// The current year, for syslog timestamps when no full timestamp has been seen.
    public var currentYear: Int
    /// For stdin when it is a live pipe: flush held records once it has been idle this long.
    public var stdinIdle: IdlePolicy?
    /// Where warnings about the input go (stderr in the command).
    public var warn: (String) -> Void

    public init(readClock: @escaping () -> EventTime = { EventTime(micros: 0) }, currentYear: Int = 1970,
                stdinIdle: IdlePolicy? = nil, warn: @escaping (String) -> Void = { _ in }) {
        self.readClock = readClock
        self.currentYear = currentYear
        self.stdinIdle = stdinIdle
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
