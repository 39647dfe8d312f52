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
public struct LockRecord: Equatable, Sendable {
    public var kind: RecordKind
    public var time: EventTime
    /// Empty only for health records.
    public var profile: String
    public var symbol: String?
    public var owner: String?
    public var caller: String?
    public var expires: EventTime?
    /// Latency of the lock call in seconds, when the line reports one.
    public var latency: Double?
    public var host: String?
    /// For warnings (and lines that are both): whether the trading loop skipped a signal.
    public var skipped: Bool
    public var health: HealthReport?
    public var origin: Origin
    /// A syslog time whose year is still to be inferred in input order.
    var syslogStamp: SyslogStamp?

    public init(kind: RecordKind, time: EventTime, profile: String, symbol: String? = nil, owner: String? = nil,
                caller: String? = nil, expires: EventTime? = nil, latency: Double? = nil, host: String? = nil,
                skipped: Bool = false, health: HealthReport? = nil, origin: Origin = Origin(input: 0, line: 0)) {
        self.kind = kind; self.time = time; self.profile = profile; self.symbol = symbol; self.owner = owner
        self.caller = caller; self.expires = expires; self.latency = latency; self.host = host
        self.skipped = skipped; self.health = health; self.origin = origin
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
        var out = LockRecord(
            kind: rule.kind, time: time ?? EventTime(micros: 0), profile: profile,
            symbol: nonEmpty(fields[.symbol]), owner: nonEmpty(fields[.owner]), caller: nonEmpty(fields[.caller]),
            expires: fields[.expires].flatMap { timestamps.parse($0) }, latency: latency,
            host: nonEmpty(fields[.host] ?? record.envelopeHost), origin: origin)
        if time == record.time { out.syslogStamp = record.syslogStamp }
        switch rule.kind {
        case .failed, .warning:
            out.skipped = skipped(fields, record)
        case .health:
            out.health = HealthReport(
                lockContentionCount: fields[.lockContentionCount].flatMap { Int($0) ?? Double($0).map { Int($0) } },
                tradingLoopHealthy: boolean(fields, .tradingLoopHealthy),
                reconciliationLoopHealthy: boolean(fields, .reconciliationLoopHealthy))
        default: break
        }
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
