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
/// Plain values only: the texts are interned `Name`s, so that ordering, merging, pairing and
/// correlating a record copy a few words and count no references.
public struct LockRecord: Equatable, Sendable {
    public var kind: RecordKind
    public var time: EventTime
    public var origin: Origin
    /// Empty only for health records.
    public var profileName: Name
    public var symbolName: Name?
    public var ownerName: Name?
    public var callerName: Name?
    public var hostName: Name?
    public var expires: EventTime?
    /// Latency of the lock call in seconds, when the line reports one.
    public var latency: Double?
    /// For warnings (and lines that are both): whether the trading loop skipped a signal.
    public var skipped: Bool
    public var health: HealthReport?
    /// A syslog time whose year is still to be inferred in input order.
    var syslogStamp: SyslogStamp?

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
        self.kind = kind; self.time = time; self.origin = origin
        profileName = profile; symbolName = symbol; ownerName = owner; callerName = caller; hostName = host
        self.expires = expires; self.latency = latency; self.skipped = skipped; self.health = health
        self.syslogStamp = syslogStamp
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

    /// Matches a record decoded from `line` (whose bytes it may still point into) and builds
    /// the lock record.
    public func match(_ record: LogRecord, line: UnsafeRawBufferPointer, origin: Origin) -> MatchOutcome {
        var k = 0
        while k < rules.count {
            let hit: Bool
            do {
                hit = try record.withSubject(in: line) {
                    try rules[k].prefilter.admits($0) && rules[k].regex.matches($0, with: matchData[k])
                }
            } catch {
                return .limitExceeded(rule: rules[k].name)
            }
            if hit { break }
            k += 1
        }
        guard k < rules.count else { return .none }
        let rule = rules[k]
        // Captures win over the decoder's fields; most rules have none, and then nothing is copied.
        guard !rule.groups.isEmpty else {
            return build(rule: rule, fields: record.fields, record: record, line: line, origin: origin)
        }
        var fields = record.fields
        record.withSubject(in: line) { s in
            for g in rule.groups {
                guard let r = matchData[k].range(ofGroup: g.number) else { continue }
                fields[g.field] = String(decoding: UnsafeRawBufferPointer(rebasing: s[r]), as: UTF8.self)
            }
        }
        return build(rule: rule, fields: fields, record: record, line: line, origin: origin)
    }

    private func build(rule: Rule, fields: FieldSet, record: LogRecord, line: UnsafeRawBufferPointer,
                       origin: Origin) -> MatchOutcome {
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
            skipped = self.skipped(fields, record, line)
        case .health:
            health = HealthReport(
                lockContentionCount: fields[.lockContentionCount].flatMap { Int($0) ?? Double($0).map { Int($0) } },
                tradingLoopHealthy: boolean(fields, .tradingLoopHealthy),
                reconciliationLoopHealthy: boolean(fields, .reconciliationLoopHealthy))
        default: break
        }
        let out = LockRecord(
            kind: rule.kind, time: time ?? EventTime(micros: 0), origin: origin, profile: names.name(profile),
            symbol: nonEmpty(fields[.symbol]).map(names.name), owner: nonEmpty(fields[.owner]).map(names.name),
            caller: nonEmpty(fields[.caller]).map(names.name),
            host: nonEmpty(fields[.host] ?? record.envelopeHost).map(names.name),
            expires: fields[.expires].flatMap { timestamps.parse($0) }, latency: latency, skipped: skipped,
            health: health, syslogStamp: time == record.time ? record.syslogStamp : nil)
        return .record(out, timeless: time == nil)
    }

    private func skipped(_ fields: FieldSet, _ record: LogRecord, _ line: UnsafeRawBufferPointer) -> Bool {
        if let s = fields[.skipped], !s.isEmpty, !fields.isFalse(.skipped) { return true }
        if fields[.action] == "skip_signal" || fields.isTrue(.signalSkipped) { return true }
        return record.withSubject(in: line) { (try? skipPhrase.matches($0, with: skipData)) ?? false }
    }

    private func boolean(_ fields: FieldSet, _ f: Field) -> Bool? {
        fields.isTrue(f) ? true : fields.isFalse(f) ? false : nil
    }
}

@inline(__always) func nonEmpty(_ s: String?) -> String? {
    guard let s, !s.isEmpty else { return nil }
    return s
}
