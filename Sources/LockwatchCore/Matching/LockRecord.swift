// Matching's output: the lock record, the value that leaves Matching for Correlation.

/// Where a record came from: which input and which line of it.
///
/// A lock record keeps it in 64 bits: inputs up to 2^24 - 1 and lines up to 2^40 - 1 (a
/// trillion; at ten thousand lines a second, three years of a live pipe), beyond which the
/// numbers stay at the largest.
public struct Origin: Hashable, Comparable, Sendable, BitwiseCopyable {
    public var input: Int
    public var line: Int
    public init(input: Int, line: Int) { self.input = input; self.line = line }
    public static func < (a: Origin, b: Origin) -> Bool { (a.input, a.line) < (b.input, b.line) }

    var packedInput: UInt64 { UInt64(min(max(input, 0), 1 << 24 - 1)) }
    var packedLine: UInt64 { UInt64(min(max(line, 0), 1 << 40 - 1)) }
}

/// The `/internal/health` fields a health record carries, and the last ones a host reported.
public struct HealthReport: Equatable, Sendable, Codable, BitwiseCopyable {
    public var lockContentionCount: Int?
    public var tradingLoopHealthy: Bool?
    public var reconciliationLoopHealthy: Bool?
}

/// A recognised lock record: the value that leaves Matching for Correlation.
///
/// Plain values only: the texts are interned `Name`s, so that ordering, merging, pairing and
/// correlating a record copy a few words and count no references. Optional values are kept
/// with sentinels and packed: 72 bytes, where `Optional`s made 161 (it is copied at every
/// stage; 72 whole bytes copy as four vector moves and a word, where an odd size costs
/// stalled partial moves at each copy).
public struct LockRecord: Equatable, Sendable, BitwiseCopyable {
    public var time: EventTime
    private var expiresRaw: Int64
    private var latencyRaw: Double
    /// The origin: the input in the top 24 bits, the line in the low 40 (`Origin` clamps).
    private var originRaw: UInt64
    private var stampRaw: UInt64
    /// The health report's contention count, `Int64.min` for none.
    private var healthCount: Int64
    private var names: (profile: UInt32, symbol: UInt32, owner: UInt32, caller: UInt32, host: UInt32)
    public var kind: RecordKind
    /// For warnings (and lines that are both): whether the trading loop skipped a signal.
    public var skipped: Bool
    /// Bit 0: whether there is a health report; bits 1–2 and 3–4 its two loop values
    /// (0 none, 1 false, 2 true).
    private var healthFlags: UInt8 = 0
    /// Makes the size a whole 72 bytes.
    private var padding: UInt8 = 0

    private static let none = UInt32.max
    private static let noTime = Int64.min

    public var origin: Origin {
        get { Origin(input: Int(originRaw >> 40), line: Int(originRaw & (1 << 40 - 1))) }
        set { originRaw = UInt64(newValue.packedInput) << 40 | newValue.packedLine }
    }

    public var health: HealthReport? {
        get {
            guard healthFlags & 1 != 0 else { return nil }
            func flag(_ v: UInt8) -> Bool? { v == 0 ? nil : v == 2 }
            return HealthReport(lockContentionCount: healthCount == .min ? nil : Int(healthCount),
                                tradingLoopHealthy: flag(healthFlags >> 1 & 3),
                                reconciliationLoopHealthy: flag(healthFlags >> 3 & 3))
        }
        set {
            func flag(_ v: Bool?) -> UInt8 { v.map { $0 ? 2 : 1 } ?? 0 }
            healthCount = newValue?.lockContentionCount.map { Int64($0) } ?? .min
            healthFlags = newValue.map { 1 | flag($0.tradingLoopHealthy) << 1 | flag($0.reconciliationLoopHealthy) << 3 } ?? 0
        }
    }

    /// Empty only for health records.
    public var profileName: Name {
        get { Name(id: names.profile) }
        set { names.profile = newValue.id }
    }
    public var symbolName: Name? {
        get { Self.name(names.symbol) }
        set { names.symbol = newValue?.id ?? Self.none }
    }
    public var ownerName: Name? {
        get { Self.name(names.owner) }
        set { names.owner = newValue?.id ?? Self.none }
    }
    public var callerName: Name? {
        get { Self.name(names.caller) }
        set { names.caller = newValue?.id ?? Self.none }
    }
    public var hostName: Name? {
        get { Self.name(names.host) }
        set { names.host = newValue?.id ?? Self.none }
    }
    public var expires: EventTime? {
        get { expiresRaw == Self.noTime ? nil : EventTime(micros: expiresRaw) }
        set { expiresRaw = newValue?.micros ?? Self.noTime }
    }
    /// Latency of the lock call in seconds, when the line reports one.
    public var latency: Double? {
        get { latencyRaw.isNaN ? nil : latencyRaw }
        set { latencyRaw = newValue ?? .nan }
    }
    /// A syslog time whose year is still to be inferred in input order. It shares its word with
    /// `entry` (the stamp has bit 63 set, an entry bit 62): a journald entry's time is never a
    /// syslog time.
    var syslogStamp: SyslogStamp? {
        get { stampRaw >> 63 == 1 ? SyslogStamp(packed: stampRaw) : nil }
        set { stampRaw = newValue?.packed ?? 0 }
    }
    /// The journald entry this record came from, as its `__CURSOR` hashed (62 bits), so that
    /// an entry read twice counts once.
    var entry: UInt64? {
        get { stampRaw >> 62 == 1 ? stampRaw & (1 << 62 - 1) : nil }
        set { stampRaw = newValue.map { $0 & (1 << 62 - 1) | 1 << 62 } ?? 0 }
    }

    private static func name(_ id: UInt32) -> Name? { id == none ? nil : Name(id: id) }

    public var profile: String { profileName.string }
    public var symbol: String? { symbolName?.string }
    public var owner: String? { ownerName?.string }
    public var caller: String? { callerName?.string }
    public var host: String? { hostName?.string }

    public init(kind: RecordKind, time: EventTime, profile: String, symbol: String? = nil, owner: String? = nil,
                caller: String? = nil, expires: EventTime? = nil, latency: Double? = nil, host: String? = nil,
                skipped: Bool = false, health: HealthReport? = nil, origin: Origin = Origin(input: 0, line: 0)) {
        self.init(kind: kind, time: time, origin: origin, profile: Name(profile), symbol: symbol.map { Name($0) },
                  owner: owner.map { Name($0) }, caller: caller.map { Name($0) }, host: host.map { Name($0) },
                  expires: expires, latency: latency, skipped: skipped, health: health, syslogStamp: nil)
    }

    init(kind: RecordKind, time: EventTime, origin: Origin, profile: Name, symbol: Name?, owner: Name?, caller: Name?,
         host: Name?, expires: EventTime?, latency: Double?, skipped: Bool, health: HealthReport?,
         syslogStamp: SyslogStamp?) {
        self.kind = kind; self.time = time
        originRaw = 0
        expiresRaw = expires?.micros ?? Self.noTime
        latencyRaw = latency ?? .nan
        stampRaw = syslogStamp?.packed ?? 0
        healthCount = .min
        names = (profile.id, symbol?.id ?? Self.none, owner?.id ?? Self.none, caller?.id ?? Self.none,
                 host?.id ?? Self.none)
        self.skipped = skipped
        self.origin = origin
        self.health = health
    }

    public static func == (a: LockRecord, b: LockRecord) -> Bool {
        a.time == b.time && a.expires == b.expires && a.latency == b.latency && a.originRaw == b.originRaw
            && a.stampRaw == b.stampRaw && a.names == b.names && a.kind == b.kind && a.skipped == b.skipped
            && a.healthCount == b.healthCount && a.healthFlags == b.healthFlags
    }
}
