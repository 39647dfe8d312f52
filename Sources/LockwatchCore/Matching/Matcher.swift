import CScan
import PCRE2

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

/// The `/internal/health` fields a health record carries.
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

/// What matching one decoded line gave.
public enum MatchOutcome: Sendable {
    /// A lock record; its time is nil when neither the line nor a rule gave one.
    case record(LockRecord, timeless: Bool)
    /// A rule matched, but the line has no profile id: not a record (docs/semantics.md, "Records").
    case noProfile(rule: String)
    /// No rule matched.
    case none
    /// A rule's match limit was hit on this line.
    case limitExceeded(rule: String)
}

/// What matching one decoded line gave, when the record itself went into the caller's array.
enum MatchStatus {
    /// A lock record, appended; `timeless` as in `MatchOutcome.record`.
    case record(timeless: Bool)
    /// Rule k matched, but the line has no profile id.
    case noProfile(rule: Int)
    case none
    /// Rule k hit its match limit on this line.
    case limitExceeded(rule: Int)
}

/// Runs the rules over decoded records. Holds match data: one per thread.
public final class Matcher {
    public let rules: [Rule]
    private let matchData: [MatchData]
    private let skipPhrase: Regex
    private let skipData: MatchData
    /// The phrase's literal, tested before the regex (most failures do not say it).
    private static let skipText = Literal("skipping signal", caseInsensitive: true)
    private let skipGate = Prefilter(literals: [skipText])
    /// The literal between word boundaries, which proves the pattern matches; nil without shortcuts.
    private let skipProof: Shortcut.Proof?
    private let timestamps: TimestampParser
    private let names = NameCache()
    /// The distinct literal sets of the rules (most rules share one), each tested at most
    /// once per record; `gate[k]` is rule k's.
    private let gates: [Prefilter]
    private let gate: [Int]
    /// Per gate, its longest literal's length in bytes.
    private let gateReach: [Int]
    /// Per rule, the raw handles the loop over rules uses, so that trying a rule retains and
    /// releases nothing (the arrays above keep the objects alive).
    private let plan: UnsafeMutableBufferPointer<RuleHandles>
    /// The search tables of the rules' shortcuts, kept alive for `plan`.
    private let shortcutTables: [Prefilter]

    private struct RuleHandles {
        var code: OpaquePointer
        var context: OpaquePointer?
        var data: OpaquePointer
        /// Whether matching may take PCRE2's JIT fast path (see `Regex.handles`).
        var jit: Bool
        var kind: RecordKind
        /// Whether the pattern has named groups, and whether one of them is the time.
        var hasGroups: Bool
        var capturesTime: Bool
        var gate: Int
        /// The gate's search tables; nil admits every record.
        var tables: UnsafeMutablePointer<lw_literals>?
        /// The shortcut's proof (its tables, its text's length, its boundaries), and the
        /// tables of its first two required literals; nil where the rule has none.
        var proof: UnsafeMutablePointer<lw_literals>?
        var proofLength: Int
        var wordBefore: Int32
        var after: Int32
        var requires: (UnsafeMutablePointer<lw_literals>?, UnsafeMutablePointer<lw_literals>?)
    }

    /// With `shortcuts` off, every rule's pattern runs (tests compare the two).
    public init(rules: [Rule], timestamps: TimestampParser, shortcuts: Bool = true) {
        self.rules = rules
        self.matchData = rules.map { $0.regex.makeMatchData() }
        var gates: [Prefilter] = []
        var gate: [Int] = []
        for r in rules {
            if let g = gates.firstIndex(where: { $0.literals == r.prefilter.literals }) { gate.append(g); continue }
            gate.append(gates.count)
            gates.append(r.prefilter)
        }
        self.gates = gates
        self.gate = gate
        gateReach = gates.map { $0.literals.map(\.text.utf8.count).max() ?? 0 }
        plan = .allocate(capacity: rules.count)
        var kept: [Prefilter] = []
        func tables(_ l: Literal) -> UnsafeMutablePointer<lw_literals>? {
            let p = Prefilter(literals: [l])
            kept.append(p)
            return p.rawTables
        }
        for (k, rule) in rules.enumerated() {
            let h = rule.regex.handles
            let cut = shortcuts ? rule.shortcut : nil
            let requires = (cut?.requires ?? []).prefix(2).map(tables)
            plan[k] = RuleHandles(code: h.code, context: h.context, data: matchData[k].pointer, jit: h.jit, kind: rule.kind,
                                  hasGroups: !rule.groups.isEmpty, capturesTime: rule.groups.contains { $0.field == .time },
                                  gate: gate[k],
                                  tables: gates[gate[k]].rawTables,
                                  proof: cut?.proof.map { tables($0.text) } ?? nil,
                                  proofLength: cut?.proof?.text.text.utf8.count ?? 0,
                                  wordBefore: cut?.proof?.wordBefore == true ? 1 : 0, after: cut?.proof?.after ?? 0,
                                  requires: (requires.first ?? nil, requires.dropFirst().first ?? nil))
        }
        shortcutTables = kept
        skipProof = shortcuts ? Shortcut.Proof(text: Self.skipText, wordBefore: true, after: 1) : nil
        self.skipPhrase = try! Regex(#"(?i)\bskipping signal\b"#)
        self.skipData = skipPhrase.makeMatchData()
        self.timestamps = timestamps
    }

    deinit { plan.deallocate() }

    /// Whether a gate's literals occur in `subject` (a gate without tables admits all).
    @inline(__always)
    private static func admits(_ tables: UnsafeMutablePointer<lw_literals>?, _ subject: UnsafeRawBufferPointer) -> Bool {
        guard let tables else { return true }
        guard let base = subject.baseAddress, !subject.isEmpty else { return false }
        return lw_find_literal(tables, base.assumingMemoryBound(to: UInt8.self), subject.count) < subject.count
    }

    /// `admits`, knowing where the chunk prefilter found a literal in `subject` (`hit`; -1 when
    /// nothing is known). The prefilter reports the first literal whose search window it
    /// verifies, so any of its literals starts at most its window's offset before `hit`; a gate
    /// literal contains one of them (the prefilter keeps, of literals that contain one another,
    /// the shortest), so it starts at most its own length less one before `hit`: the search
    /// starts there, or ends at once at `hit`.
    @inline(__always)
    private static func admits(_ tables: UnsafeMutablePointer<lw_literals>?, reach: Int, _ subject: UnsafeRawBufferPointer,
                               hit: Int) -> Bool {
        guard let tables, hit >= 0, hit < subject.count, let base = subject.baseAddress else { return admits(tables, subject) }
        let b = base.assumingMemoryBound(to: UInt8.self)
        if lw_literal_at(tables, b + hit, subject.count - hit) != 0 { return true }
        let from = max(0, hit - reach + 1)
        return lw_find_literal(tables, b + from, subject.count - from) < subject.count - from
    }

    /// Matches a decoded record and builds the lock record.
    public func match(_ record: borrowing LogRecord, origin: Origin) -> MatchOutcome {
        var out: [LockRecord] = []
        var record = copy record
        switch match(&record, origin: origin, appendingTo: &out) {
        case .record(let timeless): return .record(out[0], timeless: timeless)
        case .noProfile(let k): return .noProfile(rule: rules[k].name)
        case .none: return .none
        case .limitExceeded(let k): return .limitExceeded(rule: rules[k].name)
        }
    }

    /// Matches a decoded record and appends its lock record to `records`: the record is built
    /// once, where it stays (a returned record was copied at each step of the way). A rule's
    /// captures are written over the decoded record's fields.
    func match(_ record: inout LogRecord, origin: Origin, appendingTo records: inout [LockRecord]) -> MatchStatus {
        let (found, limited) = record.withSubject { firstRule($0, hit: -1) }
        if limited { return .limitExceeded(rule: found) }
        guard found >= 0 else { return .none }
        // Captures win over the decoder's fields, written over them in place; most rules have
        // none (and then the rule object is not touched: what building needs is in the plan).
        if plan[found].hasGroups {
            for g in rules[found].groups {
                guard let r = matchData[found].range(ofGroup: g.number) else { continue }
                record.fields.spans[g.field] = (record.subject.lowerBound + r.lowerBound)..<(record.subject.lowerBound + r.upperBound)
            }
        }
        let line = DecodedLine(subject: record.subject, time: record.time, envelopeHost: record.envelopeHostRange,
                               syslogStamp: record.syslogStamp, cursor: record.cursor)
        return record.fields.withValues { build(found, line, $0, origin: origin, into: &records) }
    }

    /// The first rule whose gate admits `subject` and whose pattern matches it (or that hit a
    /// limit), or -1; then whether a limit stopped it. `hit`: where the chunk prefilter's first
    /// literal starts in `subject` (`ChunkScanner.scan`), or -1.
    @inline(__always)
    private func firstRule(_ subject: UnsafeRawBufferPointer, hit: Int) -> (Int, Bool) {
        var k = 0
        var tested: UInt64 = 0, admitted: UInt64 = 0
        let plan = plan
        while k < plan.count {
            let r = plan[k]
            let g = r.gate
            if g < 64 {
                if tested & (1 << g) == 0 {
                    tested |= 1 << g
                    if Self.admits(r.tables, reach: gateReach[g], subject, hit: hit) { admitted |= 1 << g }
                }
                if admitted & (1 << g) == 0 { k += 1; continue }
            } else if !Self.admits(r.tables, reach: gateReach[g], subject, hit: hit) {
                k += 1; continue
            }
            if let proof = r.proof, let base = subject.baseAddress,
               lw_literal_proves(proof, r.proofLength, r.wordBefore, r.after, base.assumingMemoryBound(to: UInt8.self),
                                 subject.count) == 1 {
                return (k, false)
            }
            if let q = r.requires.0, !Self.admits(q, subject) { k += 1; continue }
            if let q = r.requires.1, !Self.admits(q, subject) { k += 1; continue }
            let rc = Regex.rawMatch(code: r.code, context: r.context, data: r.data, jit: r.jit, subject)
            if rc >= 0 { return (k, false) }
            if Regex.isLimit(rc) { return (k, true) }
            k += 1
        }
        return (-1, false)
    }

    /// Whether `matchInPlace` may serve these rules: none has named groups, whose captures are
    /// written over a decoded record's fields (the line read in place has no copy to write to).
    var servesPlainLane: Bool { !rules.contains { !$0.groups.isEmpty } }

    /// `match` for a line that `RecordDecoder.decodeInPlace` decoded: its subject is the whole
    /// line and its fields are `spans`, ranges of the line. The record is built by the same
    /// `build` as `match`'s, so where it returns a status, `match` gives the same status and
    /// record; nil (a rule with groups, see `servesPlainLane`) leaves the line to `match`.
    /// `hit`: where the chunk prefilter of these rules' literals (`Configuration.prefilter`)
    /// found the line's first literal, or -1.
    func matchInPlace(_ line: UnsafeRawBufferPointer, hit: Int, spans: inout FieldSet.Spans, time: EventTime, origin: Origin,
                      appendingTo records: inout [LockRecord]) -> MatchStatus? {
        let (found, limited) = firstRule(line, hit: hit)
        if limited { return .limitExceeded(rule: found) }
        guard found >= 0 else { return MatchStatus.none }
        guard !plan[found].hasGroups else { return nil }
        return withUnsafePointer(to: &spans) {
            build(found, DecodedLine(subject: 0..<line.count, time: time), FieldValues(bytes: line, spans: $0),
                  origin: origin, into: &records)
        }
    }

    /// What building a lock record reads of a decoded line besides its fields (`FieldValues`,
    /// over a decoded record's own copy for `match`, over the line itself for `matchInPlace`).
    struct DecodedLine {
        /// The text the rules ran on, a range of the fields' bytes.
        var subject: Range<Int>
        var time: EventTime?
        /// The envelope's host column or field, a range of the fields' bytes.
        var envelopeHost: Range<Int>? = nil
        var syslogStamp: SyslogStamp? = nil
        var cursor: String? = nil
    }

    /// The lock record of rule `k`'s match: the one definition of every record value (names,
    /// time, expiry, latency, skipped signal, health report), for both paths.
    private func build(_ k: Int, _ line: DecodedLine, _ fields: FieldValues, origin: Origin,
                       into records: inout [LockRecord]) -> MatchStatus {
        let kind = plan[k].kind
        let profile = name(fields, .profile)
        if profile == nil && kind != .health { return .noProfile(rule: k) }
        var time = line.time
        if plan[k].capturesTime, let t = fields.withValue(.time, { timestamps.parse($0) }) ?? nil {
            time = t
        }
        var latency: Double? = nil
        if let ms = fields.withValue(.latencyMs, parseNumber) ?? nil { latency = ms / 1000 }
        else if let s = fields.withValue(.latencySeconds, parseNumber) ?? nil { latency = s }
        var skipped = false
        var health: HealthReport? = nil
        switch kind {
        case .failed, .warning:
            skipped = self.skipped(fields, subject: UnsafeRawBufferPointer(rebasing: fields.bytes[line.subject]))
        case .health:
            health = HealthReport(
                lockContentionCount: integer(fields.withValue(.lockContentionCount, parseNumber) ?? nil),
                tradingLoopHealthy: boolean(fields, .tradingLoopHealthy),
                reconciliationLoopHealthy: boolean(fields, .reconciliationLoopHealthy))
        default: break
        }
        var host = name(fields, .host)
        if host == nil, let r = line.envelopeHost, !r.isEmpty {
            host = names.name(UnsafeRawBufferPointer(rebasing: fields.bytes[r]))
        }
        records.append(LockRecord(
            kind: kind, time: time ?? EventTime(micros: 0), origin: origin, profile: profile ?? Name.empty,
            symbol: name(fields, .symbol), owner: name(fields, .owner), caller: name(fields, .caller), host: host,
            expires: fields.withValue(.expires, { timestamps.parse($0) }) ?? nil, latency: latency, skipped: skipped,
            health: health, syslogStamp: time == line.time ? line.syslogStamp : nil))
        if let cursor = line.cursor { records[records.count - 1].entry = Self.entryHash(cursor) }
        return .record(timeless: time == nil)
    }

    /// A journald cursor as 64 bits (FNV-1a): the same in every run.
    static func entryHash(_ cursor: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in cursor.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The interned name of a field's value; nil when absent or empty.
    private func name(_ fields: FieldValues, _ f: Field) -> Name? {
        fields.withValue(f) { $0.isEmpty ? nil : names.name($0) } ?? nil
    }

    /// Whether the trading loop skipped a signal: the markers of docs/semantics.md ("Records"),
    /// a field first, else the phrase in the text the rules ran on.
    private func skipped(_ fields: FieldValues, subject: UnsafeRawBufferPointer) -> Bool {
        if let r = fields.range(.skipped), !r.isEmpty, !fields.isFalse(.skipped) { return true }
        if fields.valueEquals(.action, "skip_signal") || fields.isTrue(.signalSkipped) { return true }
        return saysSkipping(subject)
    }

    /// Whether the text says the trading loop skipped a signal (its literal first, then its pattern).
    private func saysSkipping(_ subject: UnsafeRawBufferPointer) -> Bool {
        // The proof's text is the gate's literal: where it is missing, so is the phrase.
        if let proof = skipProof, let t = skipGate.rawTables, let decided = proof.holds(in: subject, t) {
            return decided
        }
        return skipGate.admits(subject) && ((try? skipPhrase.matches(subject, with: skipData)) ?? false)
    }

    private func boolean(_ fields: FieldValues, _ f: Field) -> Bool? {
        fields.isTrue(f) ? true : fields.isFalse(f) ? false : nil
    }
}

/// A decimal number from bytes (`5.6`, `-12`, `1e3`). Up to 15 digits are read directly and
/// divided once by a power of ten (`lw_parse_number`), which rounds exactly as parsing the text
/// would; anything else goes through the standard library.
func parseNumber(_ b: UnsafeRawBufferPointer) -> Double? {
    var v = 0.0
    if let base = b.baseAddress, lw_parse_number(base.assumingMemoryBound(to: UInt8.self), b.count, &v) != 0 { return v }
    return Double(String(decoding: b, as: UTF8.self))
}

/// A whole number that fits an Int, from a parsed number.
func integer(_ v: Double?) -> Int? {
    guard let v, v.isFinite, abs(v) < 9.0e18 else { return nil }
    return Int(v)
}
