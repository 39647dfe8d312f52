import CScan
import PCRE2

/// What matching one decoded line gave. Rules are named by their place in `Matcher.rules`;
/// the record itself goes where the caller keeps records (it is built once, where it stays).
public enum MatchOutcome: Equatable, Sendable {
    /// Rule `rule` matched and gave a lock record; `timeless` when neither the line nor the
    /// rule gave it a time (the caller gives it the last timed line's).
    case record(rule: Int, timeless: Bool)
    /// Rule `rule` matched, but the line has no profile id: not a record (docs/semantics.md, "Records").
    case noProfile(rule: Int)
    /// Rule `rule` hit its match limit on this line.
    case limitExceeded(rule: Int)
    /// No rule matched.
    case none

    /// The rule the outcome names, if any.
    public var rule: Int? {
        switch self {
        case .record(let k, _), .noProfile(let k), .limitExceeded(let k): k
        case .none: nil
        }
    }
}

/// Runs the rules over decoded records. Holds match data: one per thread.
public final class Matcher {
    public let rules: [Rule]
    /// The rules' patterns, matched by rule number.
    private let patterns: RegexSet
    private let skipPhrase: Regex
    private let skipData: MatchData
    /// The phrase's literal, tested before the regex (most failures do not say it).
    private static let skipText = Literal("skipping signal", caseInsensitive: true)
    private let skipGate = Prefilter(literals: [skipText])
    /// The literal between word boundaries, which proves the pattern matches; nil without shortcuts.
    private let skipProof: Shortcut.Proof?
    private let timestamps: TimestampParser
    private let names = NameTable.shared
    /// This thread's last date read: for expiries here, and for the plain lane's line times.
    let dates = DateCache()
    /// The distinct literal sets of the rules (most rules share one), each tested at most
    /// once per record; `gate[k]` is rule k's.
    private let gates: [Prefilter]
    private let gate: [Int]
    /// Per gate, its longest literal's length in bytes.
    private let gateReach: [Int]
    /// Per rule, what the loop over rules reads (its kind, its gate, its shortcut's tables), so
    /// that trying a rule retains and releases nothing (the arrays above keep the tables alive).
    private let plan: UnsafeMutableBufferPointer<RulePlan>
    /// The search tables of the rules' shortcuts, kept alive for `plan`.
    private let shortcutTables: [Prefilter]
    /// Decides from a line's bytes alone, before it is decoded, that no rule can match it.
    private let lineGate: LineGate

    private struct RulePlan {
        var kind: RecordKind
        /// Whether the pattern has named groups, and whether one of them is the time.
        var hasGroups: Bool
        var capturesTime: Bool
        var gate: Int
        /// The gate's search tables; nil admits every record.
        var tables: UnsafeMutablePointer<lw_literals>?
        /// The shortcut's proof (its tables, its text's length, its boundaries); nil where the
        /// rule has none.
        var proof: UnsafeMutablePointer<lw_literals>?
        var proofLength: Int
        var wordBefore: Int32
        var after: Int32
        /// Its first two required literals, as numbers in `required` (-1: none).
        var requires: (Int, Int)
    }

    /// The search tables of the distinct literals the rules' shortcuts require (most rules
    /// share them: `false`, `true`, `fn=`), each searched for at most once per record; the plans
    /// name them by number. Read without retaining anything (`shortcutTables` keeps them alive).
    private let required: UnsafeMutableBufferPointer<UnsafeMutablePointer<lw_literals>?>

    /// With `shortcuts` off, every rule's pattern runs (tests compare the two).
    public init(rules: [Rule], timestamps: TimestampParser, shortcuts: Bool = true) {
        self.rules = rules
        patterns = RegexSet(rules.map(\.regex))
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
        var required: [Literal] = []
        func number(_ l: Literal) -> Int {
            if let n = required.firstIndex(of: l) { return n }
            required.append(l)
            return required.count - 1
        }
        for (k, rule) in rules.enumerated() {
            let cut = shortcuts ? rule.shortcut : nil
            let requires = (cut?.requires ?? []).prefix(2).map(number)
            plan[k] = RulePlan(kind: rule.kind,
                                  hasGroups: !rule.groups.isEmpty, capturesTime: rule.groups.contains { $0.field == .time },
                                  gate: gate[k],
                                  tables: gates[gate[k]].rawTables,
                                  proof: cut?.proof.map { tables($0.text) } ?? nil,
                                  proofLength: cut?.proof?.text.text.utf8.count ?? 0,
                                  wordBefore: cut?.proof?.wordBefore == true ? 1 : 0, after: cut?.proof?.after ?? 0,
                                  requires: (requires.first ?? -1, requires.dropFirst().first ?? -1))
        }
        self.required = .allocate(capacity: required.count)
        _ = self.required.initialize(from: required.map(tables))
        shortcutTables = kept
        lineGate = LineGate(rules: rules)
        skipProof = shortcuts ? Shortcut.Proof(text: Self.skipText, wordBefore: true, after: 1) : nil
        self.skipPhrase = try! Regex(#"(?i)\bskipping signal\b"#)
        self.skipData = skipPhrase.makeMatchData()
        self.timestamps = timestamps
    }

    deinit {
        plan.deallocate()
        required.deallocate()
    }

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

    /// Matches a decoded record: the outcome, and the lock record when there is one.
    public func match(_ record: borrowing LogRecord, origin: Origin) -> (outcome: MatchOutcome, record: LockRecord?) {
        var out: [LockRecord] = []
        var record = copy record
        let outcome = match(&record, origin: origin, appendingTo: &out)
        return (outcome, out.first)
    }

    /// Matches a decoded record and appends its lock record to `records`: the record is built
    /// once, where it stays (a returned record was copied at each step of the way). A rule's
    /// captures are written over the decoded record's fields.
    func match(_ record: inout LogRecord, origin: Origin, appendingTo records: inout [LockRecord]) -> MatchOutcome {
        let (found, limited) = record.withSubject { firstRule($0, hit: -1) }
        if limited { return .limitExceeded(rule: found) }
        guard found >= 0 else { return .none }
        // Captures win over the decoder's fields, written over them in place; most rules have
        // none (and then the rule object is not touched: what building needs is in the plan).
        if plan[found].hasGroups {
            for g in rules[found].groups {
                guard let r = patterns.range(ofGroup: g.number, in: found) else { continue }
                record.fields.spans[g.field] = (record.subject.lowerBound + r.lowerBound)..<(record.subject.lowerBound + r.upperBound)
            }
        }
        let line = DecodedLine(subject: record.subject, time: record.time, envelopeHost: record.envelopeHostRange,
                               syslogStamp: record.syslogStamp, entry: record.cursorRange.map { Self.entryHash(record.fields.bytes[$0]) })
        return record.fields.withValues { build(found, line, $0, origin: origin, into: &records) }
    }

    /// The first rule whose gate admits `subject` and whose pattern matches it (or that hit a
    /// limit), or -1; then whether a limit stopped it. `hit`: where the chunk prefilter's first
    /// literal starts in `subject` (`ChunkScanner.scan`), or -1.
    @inline(__always)
    private func firstRule(_ subject: UnsafeRawBufferPointer, hit: Int) -> (Int, Bool) {
        var tests = LiteralTests()
        let plan = plan, patterns = patterns
        for k in 0..<plan.count where literalsAdmit(k, subject, hit: hit, &tests) {
            let r = plan[k]
            if let proof = r.proof, let base = subject.baseAddress,
               lw_literal_proves(proof, r.proofLength, r.wordBefore, r.after, base.assumingMemoryBound(to: UInt8.self),
                                 subject.count) == 1 {
                return (k, false)
            }
            switch patterns.match(k, subject) {
            case .matched: return (k, false)
            case .limitExceeded: return (k, true)
            case .noMatch: break
            }
        }
        return (-1, false)
    }

    /// Whether some rule's literals occur in `subject`: false when no rule can match it, which
    /// the decoder asks before it reads a line's fields (`RecordDecoder.decode(_:into:gate:)`).
    func mayMatch(_ subject: UnsafeRawBufferPointer) -> Bool {
        var tests = LiteralTests()
        for k in 0..<plan.count where literalsAdmit(k, subject, hit: -1, &tests) { return true }
        return false
    }

    /// Whether some rule may match the line, as far as its bytes tell before it is decoded:
    /// false only where no rule's literals can all occur in the text the rules would run on
    /// (`LineGate`). A run decodes only the lines for which this is true.
    func mayMatch(line: UnsafeRawBufferPointer) -> Bool { lineGate.admits(line) }

    /// The literals (the fragments the line gate tests) that `line` lacks, for `explain`.
    func lineGateLacks(_ line: UnsafeRawBufferPointer) -> [String] { lineGate.lacking(line) }

    /// What one record's literal tests found so far: each gate and each required literal is
    /// searched for at most once per record, whichever rules share it.
    private struct LiteralTests {
        var tested: UInt64 = 0, admitted: UInt64 = 0
        var searched: UInt64 = 0, found: UInt64 = 0
    }

    /// Whether rule `k`'s gate admits `subject` and the literals its pattern requires occur in
    /// it: the rule may match. `hit` as for `firstRule`.
    @inline(__always)
    private func literalsAdmit(_ k: Int, _ subject: UnsafeRawBufferPointer, hit: Int, _ t: inout LiteralTests) -> Bool {
        let r = plan[k]
        let g = r.gate
        if g < 64 {
            if t.tested & (1 << g) == 0 {
                t.tested |= 1 << g
                if Self.admits(r.tables, reach: gateReach[g], subject, hit: hit) { t.admitted |= 1 << g }
            }
            if t.admitted & (1 << g) == 0 { return false }
        } else if !Self.admits(r.tables, reach: gateReach[g], subject, hit: hit) {
            return false
        }
        func occurs(_ n: Int) -> Bool {
            guard n >= 0 else { return true }
            guard n < 64 else { return Self.admits(required[n], subject) }
            if t.searched & (1 << n) == 0 {
                t.searched |= 1 << n
                if Self.admits(required[n], subject) { t.found |= 1 << n }
            }
            return t.found & (1 << n) != 0
        }
        return occurs(r.requires.0) && occurs(r.requires.1)
    }

    /// Whether `matchInPlace` may serve these rules: none has named groups, whose captures are
    /// written over a decoded record's fields (the line read in place has no copy to write to).
    var servesPlainLane: Bool { !rules.contains { !$0.groups.isEmpty } }

    /// `match` for a line read in place (`PlainLane`): its subject is the whole line, and
    /// `fields` finds its fields as ranges of the line — only once a rule matched, so that the
    /// lock lines no rule takes (a call, an RPC's access line) are never scanned for pairs.
    /// The record is built by the same `build` as `match`'s, so where it returns an outcome,
    /// `match` gives the same outcome and record; nil (a rule with groups, see
    /// `servesPlainLane`, or `fields` declining) leaves the line to `match`. `hit`: where the
    /// chunk prefilter of these rules' literals (`Configuration.prefilter`) found the line's
    /// first literal, or -1.
    func matchInPlace(_ line: UnsafeRawBufferPointer, hit: Int, time: EventTime, origin: Origin,
                      appendingTo records: inout [LockRecord],
                      fields: (inout FieldSet.Spans) -> Bool) -> MatchOutcome? {
        let (found, limited) = firstRule(line, hit: hit)
        if limited { return .limitExceeded(rule: found) }
        guard found >= 0 else { return MatchOutcome.none }
        guard !plan[found].hasGroups else { return nil }
        var spans = FieldSet.Spans()
        guard fields(&spans) else { return nil }
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
        /// The journald entry, as its cursor's hash (`entryHash`).
        var entry: UInt64? = nil
    }

    /// The lock record of rule `k`'s match: the one definition of every record value (names,
    /// time, expiry, latency, skipped signal, health report), for both paths.
    private func build(_ k: Int, _ line: DecodedLine, _ fields: FieldValues, origin: Origin,
                       into records: inout [LockRecord]) -> MatchOutcome {
        let kind = plan[k].kind
        // The profile is looked up last, its first read started here: in a large name table it
        // misses the cache (`NameTable.prefetch`), and reading the other values hides the wait.
        let hasProfile = fields.withValue(.profile) { v in
            if !v.isEmpty { names.prefetch(v) }
            return !v.isEmpty
        } ?? false
        if !hasProfile && kind != .health { return .noProfile(rule: k) }
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
        // The holder and the caller are an attempt's: only failed records and warnings keep them
        // (docs/semantics.md, "Records"). A caller token is new with every lock cycle, and
        // interning those of every acquisition and release would grow the names with the log.
        let attempt = kind == .failed || kind == .warning
        let symbol = name(fields, .symbol)
        let owner = attempt ? name(fields, .owner) : nil, caller = attempt ? name(fields, .caller) : nil
        let expires = fields.withValue(.expires, { timestamps.parse($0, dates: dates) }) ?? nil
        let profile = hasProfile ? name(fields, .profile) : nil
        records.append(LockRecord(
            kind: kind, time: time ?? EventTime(micros: 0), origin: origin, profile: profile ?? Name.empty,
            symbol: symbol, owner: owner, caller: caller, host: host,
            expires: expires, latency: latency, skipped: skipped,
            health: health, syslogStamp: time == line.time ? line.syslogStamp : nil))
        if let entry = line.entry { records[records.count - 1].entry = entry }
        return .record(rule: k, timeless: time == nil)
    }

    /// A journald cursor as 64 bits (FNV-1a): the same in every run.
    static func entryHash(_ cursor: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in cursor { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
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

/// The rules' literals read in a line's own bytes, before decoding: the line gate.
///
/// Decoding a line builds the text the rules run on (its subject) from the line's bytes: the
/// app line itself, a message taken out of its envelope, or a JSON record's message followed
/// by ` key=value` for its other members (`RecordDecoder.jsonApp`). In a line the gate can
/// read (`isReadable`: ASCII, no byte array, no escape that stands for a letter or a
/// backslash) every byte of the subject is a byte of the line, in a run that is a run of the
/// line, or a byte that joins such runs (a blank, `=`, `"`) or that a JSON escape stands for
/// (`"`, `/`, a control byte). So a literal in the subject has each of its fragments — its
/// runs between those bytes — in the line itself, and a line without one of them is without
/// the literal. A rule may match only
/// if one of its gate's literals and every literal its pattern requires (`Shortcut`) occur;
/// where that fails for every rule, no rule can match and the line need not be decoded. Other
/// lines, and rules with a literal that has no fragment to test, are always admitted.
final class LineGate {
    /// The distinct fragments, 16 to a search table (fragment `f` is bit `f % 16` of table
    /// `f / 16`); at most 64.
    private let tables: UnsafeMutableBufferPointer<lw_literals>
    /// The fragments, by number (for `lacking`).
    private let texts: [String]
    /// The test, read without retaining anything, as masks of fragments: per rule, the tested
    /// fragments of the literals it requires (all must occur), the number of its gate's
    /// literals, and each one's tested fragment (one of them must occur; a literal without a
    /// tested fragment, 0, always does). Empty: every line is admitted (a rule without
    /// literals, or too many fragments to keep track of).
    private let program: UnsafeMutableBufferPointer<UInt64>

    /// The required literals are facts about the rules' patterns, used whether or not the
    /// matcher takes shortcuts: which lines are decoded, and so which are counted as unparsed,
    /// must not depend on them.
    init(rules: [Rule]) {
        var found: [Literal] = []
        // A literal is tested by its longest fragment (the rarest, as a rule): testing fewer
        // fragments than a literal has only admits more. Fragments shorter than 3 bytes
        // occur everywhere and are not tested.
        func fragments(_ l: Literal) -> UInt64 {
            let runs = l.text.utf8.split(whereSeparator: Self.separates)
            guard let run = runs.filter({ $0.allSatisfy { $0 < 0x80 } }).max(by: { $0.count < $1.count }), run.count >= 3 else {
                return 0
            }
            let f = Literal(String(decoding: run, as: UTF8.self), caseInsensitive: l.caseInsensitive)
            let n = found.firstIndex(of: f) ?? { found.append(f); return found.count - 1 }()
            return n < 64 ? 1 << n : 0
        }
        var program: [UInt64] = []
        for r in rules {
            program.append(((r.shortcut?.requires ?? []) + (r.shortcut?.requiresInASCII ?? [])).reduce(0) { $0 | fragments($1) })
            program.append(UInt64(r.prefilter.literals.count))
            program += r.prefilter.literals.map(fragments)
        }
        let tables = UnsafeMutableBufferPointer<lw_literals>.allocate(capacity: (found.count + 15) / 16)
        tables.initialize(repeating: lw_literals())
        var added = true
        for (n, f) in found.prefix(64).enumerated() {
            var text = f.text
            added = added && text.withUTF8 { lw_literals_add(tables.baseAddress! + n / 16, $0.baseAddress, $0.count, f.caseInsensitive ? 1 : 0) } == 0
        }
        // A fragment the tables cannot hold (over 64 bytes) would shift the bits of the next.
        if rules.contains(where: { $0.prefilter.literals.isEmpty }) || found.count > 64 || !added { program = [] }
        self.tables = tables
        texts = found.map(\.description)
        self.program = .allocate(capacity: program.count)
        _ = self.program.initialize(from: program)
    }

    deinit {
        tables.deallocate()
        program.deallocate()
    }

    /// The bytes that a literal's fragments are split at: those that join the runs of a line
    /// in its subject (a blank, `=`, `"`), those that an escape the gate reads may stand for
    /// (`/`, control bytes), and the backslash.
    private static func separates(_ c: UInt8) -> Bool {
        c <= 0x20 || c == UInt8(ascii: "=") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "/") || c == 0x7F
    }

    /// Whether some rule may match `line` (true for any line the gate cannot read).
    func admits(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let present = present(line) else { return true }
        let program = program
        var i = 0
        while i < program.count {
            let required = program[i], alternatives = Int(program[i + 1])
            i += 2
            if required & ~present == 0, program[i..<(i + alternatives)].contains(where: { $0 & ~present == 0 }) { return true }
            i += alternatives
        }
        return false
    }

    /// The tested fragments that occur in `line`, as bits; nil where the gate does not read it.
    private func present(_ line: UnsafeRawBufferPointer) -> UInt64? {
        guard program.count > 0, Self.isReadable(line), let base = line.baseAddress else { return nil }
        var present: UInt64 = 0
        for t in 0..<tables.count {
            present |= UInt64(lw_literals_present(tables.baseAddress! + t, base.assumingMemoryBound(to: UInt8.self), line.count)) << (16 * t)
        }
        return present
    }

    /// The tested fragments that `line` lacks, for `explain` (empty where the gate does not read it).
    func lacking(_ line: UnsafeRawBufferPointer) -> [String] {
        guard let present = present(line) else { return [] }
        return texts.indices.filter { present & (1 << $0) == 0 }.map { texts[$0] }
    }

    /// Whether the gate can read `b` (`lw_gate_readable`): ASCII, no `]` (so no byte array),
    /// and every backslash before one of `"/bfnrt` (an escape that stands for a quote, a slash
    /// or a control byte).
    static func isReadable(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let base = b.baseAddress else { return true }
        return lw_gate_readable(base.assumingMemoryBound(to: UInt8.self), b.count) != 0
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

/// The plain lane: the workers' way for the commonest lock line — plain text, its time first,
/// `key=value` fields — decoded and matched where it lies in the chunk, without a copy into a
/// `LogRecord`. Its time and shape first (`RecordDecoder.inPlaceTime`), then the rules, then
/// its fields (`inPlaceFields`) only for a line a rule took. nil: the general path
/// (`RecordDecoder.decode`, `Matcher.match`) takes the line, and gives what the lane would.
enum PlainLane {
    /// Whether a run with `configuration` offers lines to the lane (the one definition, for
    /// the workers and for `explain`).
    static func isUsed(_ configuration: Configuration, decoder: RecordDecoder, matcher: Matcher) -> Bool {
        configuration.plainLane && matcher.servesPlainLane && decoder.decodesInPlace
    }

    static func take(_ line: UnsafeRawBufferPointer, hit: Int, decoder: RecordDecoder, matcher: Matcher,
                     origin: Origin, into records: inout [LockRecord]) -> MatchOutcome? {
        guard let time = decoder.inPlaceTime(line, dates: matcher.dates) else { return nil }
        return matcher.matchInPlace(line, hit: hit, time: time, origin: origin, appendingTo: &records) {
            decoder.inPlaceFields(line, spans: &$0)
        }
    }
}
