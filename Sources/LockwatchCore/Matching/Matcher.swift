import PCRE2

/// Where a record came from: which input and which line of it.
public struct Origin: Hashable, Comparable, Sendable {
    public var input: Int
    public var line: Int
    public init(input: Int, line: Int) { self.input = input; self.line = line }
    public static func < (a: Origin, b: Origin) -> Bool { (a.input, a.line) < (b.input, b.line) }
}

/// The `/internal/health` fields a health record carries.
public struct HealthReport: Equatable, Sendable {
    public var lockContentionCount: Int?
    public var tradingLoopHealthy: Bool?
    public var reconciliationLoopHealthy: Bool?
}

/// A recognised lock record: the value that leaves Matching for Correlation.
///
/// What the line said is kept in one immutable object, so that ordering, merging and pairing
/// move a few words per record, not a dozen strings.
public struct LockRecord: Equatable, Sendable {
    public var kind: RecordKind
    public var time: EventTime
    public var origin: Origin
    let details: Details

    /// The fields of the line, fixed once matched.
    final class Details: Sendable {
        let profile: String
        let symbol: String?
        let owner: String?
        let caller: String?
        let expires: EventTime?
        let latency: Double?
        let host: String?
        let skipped: Bool
        let health: HealthReport?
        /// A syslog time whose year is still to be inferred in input order.
        let syslogStamp: SyslogStamp?
        /// The same strings interned, for correlation.
        let names: Names

        struct Names: Sendable {
            let profile: Name
            let symbol: Name?
            let owner: Name?
            let caller: Name?
            let host: Name?
        }

        init(profile: String, symbol: String?, owner: String?, caller: String?, expires: EventTime?, latency: Double?,
             host: String?, skipped: Bool, health: HealthReport?, syslogStamp: SyslogStamp?,
             intern: (String) -> Name = { Name($0) }) {
            self.profile = profile; self.symbol = symbol; self.owner = owner; self.caller = caller
            self.expires = expires; self.latency = latency; self.host = host; self.skipped = skipped
            self.health = health; self.syslogStamp = syslogStamp
            names = Names(profile: intern(profile), symbol: symbol.map(intern), owner: owner.map(intern),
                          caller: caller.map(intern), host: host.map(intern))
        }
    }

    /// Empty only for health records.
    public var profile: String { details.profile }
    public var symbol: String? { details.symbol }
    public var owner: String? { details.owner }
    public var caller: String? { details.caller }
    public var expires: EventTime? { details.expires }
    /// Latency of the lock call in seconds, when the line reports one.
    public var latency: Double? { details.latency }
    public var host: String? { details.host }
    /// For warnings (and lines that are both): whether the trading loop skipped a signal.
    public var skipped: Bool { details.skipped }
    public var health: HealthReport? { details.health }
    var syslogStamp: SyslogStamp? { details.syslogStamp }

    public init(kind: RecordKind, time: EventTime, profile: String, symbol: String? = nil, owner: String? = nil,
                caller: String? = nil, expires: EventTime? = nil, latency: Double? = nil, host: String? = nil,
                skipped: Bool = false, health: HealthReport? = nil, origin: Origin = Origin(input: 0, line: 0)) {
        self.init(kind: kind, time: time, origin: origin, details: Details(
            profile: profile, symbol: symbol, owner: owner, caller: caller, expires: expires, latency: latency,
            host: host, skipped: skipped, health: health, syslogStamp: nil))
    }

    init(kind: RecordKind, time: EventTime, origin: Origin, details: Details) {
        self.kind = kind
        self.time = time
        self.origin = origin
        self.details = details
    }

    public static func == (a: LockRecord, b: LockRecord) -> Bool {
        a.kind == b.kind && a.time == b.time && a.origin == b.origin && a.profile == b.profile && a.symbol == b.symbol
            && a.owner == b.owner && a.caller == b.caller && a.expires == b.expires && a.latency == b.latency
            && a.host == b.host && a.skipped == b.skipped && a.health == b.health && a.syslogStamp == b.syslogStamp
    }
}

/// What matching one decoded line gave.
public enum MatchOutcome: Sendable {
    /// A lock record; its time is nil when neither the line nor a rule gave one.
    case record(LockRecord, timeless: Bool)
    /// A rule matched, but the line has no profile id: not a record (SPEC section 2).
    case noProfile(rule: String)
    /// No rule matched.
    case none
    /// A rule's match limit was hit on this line.
    case limitExceeded(rule: String)
}

/// Runs the rules over decoded records. Holds match data: one per thread.
public final class Matcher {
    public let rules: [Rule]
    private let matchData: [MatchData]
    private let skipPhrase: Regex
    private let skipData: MatchData
    private let timestamps: TimestampParser
    private let names = NameCache()

    public init(rules: [Rule], timestamps: TimestampParser) {
        self.rules = rules
        self.matchData = rules.map { $0.regex.makeMatchData() }
        self.skipPhrase = try! Regex(#"(?i)\bskipping signal\b"#)
        self.skipData = skipPhrase.makeMatchData()
        self.timestamps = timestamps
    }

    /// Matches a decoded record and builds the lock record.
    public func match(_ record: LogRecord, origin: Origin) -> MatchOutcome {
        var chosen: (rule: Rule, fields: FieldSet)? = nil
        for (k, rule) in rules.enumerated() {
            let hit: Bool
            do {
                hit = try record.subject.withUnsafeBytes {
                    try rule.prefilter.admits($0) && rule.regex.matches($0, with: matchData[k])
                }
            } catch {
                return .limitExceeded(rule: rule.name)
            }
            guard hit else { continue }
            var fields = record.fields
            record.subject.withUnsafeBytes { s in
                for g in rule.groups {
                    guard let r = matchData[k].range(ofGroup: g.number) else { continue }
                    fields[g.field] = String(decoding: UnsafeRawBufferPointer(rebasing: s[r]), as: UTF8.self)
                }
            }
            chosen = (rule, fields)
            break
        }
        guard let (rule, fields) = chosen else { return .none }
        return build(rule: rule, fields: fields, record: record, origin: origin)
    }

    private func build(rule: Rule, fields: FieldSet, record: LogRecord, origin: Origin) -> MatchOutcome {
        let profile = fields[.profile] ?? ""
        if profile.isEmpty && rule.kind != .health { return .noProfile(rule: rule.name) }
        var time = record.time
        if rule.groups.contains(where: { $0.field == .time }), let t = fields[.time].flatMap({ timestamps.parse($0) }) {
            time = t
        }
        var latency: Double? = nil
        if let ms = fields[.latencyMs].flatMap(Double.init) { latency = ms / 1000 }
        else if let s = fields[.latencySeconds].flatMap(Double.init) { latency = s }
        var skipped = false
        var health: HealthReport? = nil
        switch rule.kind {
        case .failed, .warning:
            skipped = self.skipped(fields, record)
        case .health:
            health = HealthReport(
                lockContentionCount: fields[.lockContentionCount].flatMap { Int($0) ?? Double($0).map { Int($0) } },
                tradingLoopHealthy: boolean(fields, .tradingLoopHealthy),
                reconciliationLoopHealthy: boolean(fields, .reconciliationLoopHealthy))
        default: break
        }
        let details = LockRecord.Details(
            profile: profile, symbol: nonEmpty(fields[.symbol]), owner: nonEmpty(fields[.owner]),
            caller: nonEmpty(fields[.caller]), expires: fields[.expires].flatMap { timestamps.parse($0) },
            latency: latency, host: nonEmpty(fields[.host] ?? record.envelopeHost), skipped: skipped, health: health,
            syslogStamp: time == record.time ? record.syslogStamp : nil, intern: names.name)
        let out = LockRecord(kind: rule.kind, time: time ?? EventTime(micros: 0), origin: origin, details: details)
        return .record(out, timeless: time == nil)
    }

    private func skipped(_ fields: FieldSet, _ record: LogRecord) -> Bool {
        if let s = fields[.skipped], !s.isEmpty, !fields.isFalse(.skipped) { return true }
        if fields[.action] == "skip_signal" || fields.isTrue(.signalSkipped) { return true }
        return record.subject.withUnsafeBytes { (try? skipPhrase.matches($0, with: skipData)) ?? false }
    }

    private func boolean(_ fields: FieldSet, _ f: Field) -> Bool? {
        fields.isTrue(f) ? true : fields.isFalse(f) ? false : nil
    }
}

@inline(__always) func nonEmpty(_ s: String?) -> String? {
    guard let s, !s.isEmpty else { return nil }
    return s
}
