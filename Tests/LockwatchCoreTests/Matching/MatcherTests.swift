import CScan
import Foundation
import LockwatchTestSupport
import Testing
@testable import LockwatchCore
import PCRE2

/// What one line gave, with the record and the rule's name.
enum Recognised {
    case record(LockRecord, timeless: Bool)
    case noProfile(rule: String), limitExceeded(rule: String), none
}

/// Decodes and matches one line, as a worker does.
func recognise(_ line: String, rules: [Rule] = DefaultRules.rules()) -> Recognised {
    let matcher = Matcher(rules: rules, timestamps: TimestampParser())
    var copy = line
    guard let rec = copy.withUTF8({ try? RecordDecoder(year: 2026).decode(UnsafeRawBufferPointer($0)).get() }) else {
        return .none
    }
    let (outcome, record) = matcher.match(rec, origin: Origin(input: 0, line: 1))
    switch outcome {
    case .record(_, let timeless): return .record(record!, timeless: timeless)
    case .noProfile(let k): return .noProfile(rule: rules[k].name)
    case .limitExceeded(let k): return .limitExceeded(rule: rules[k].name)
    case .none: return .none
    }
}

func kind(_ line: String) -> RecordKind? {
    if case .record(let r, _) = recognise(line) { return r.kind }
    return nil
}

@Suite struct MatcherTests {
    @Test(arguments: [
        ("fn_try_acquire_entry_lock_row returned false profile_id=p1", RecordKind.failed),
        ("fn_try_acquire_entry_lock_row -> false profile_id=p1", .failed),
        ("fn_try_acquire_entry_lock_row = false profile_id=p1", .failed),
        ("fn_try_acquire_entry_lock_row returned: false profile_id=p1", .failed),
        ("rpc done fn=fn_try_acquire_entry_lock_row result=false profile_id=p1", .failed),
        ("rpc done fn=fn_try_acquire_entry_lock_row acquired=false profile_id=p1", .failed),
        (#"{"msg":"rpc done","fn":"fn_try_acquire_entry_lock_row","ok":false,"profile_id":"p1"}"#, .failed),
        ("fn_try_acquire_entry_lock_row returned true profile_id=p1", .acquired),
        ("rpc done fn=fn_try_acquire_entry_lock_row result=true profile_id=p1", .acquired),
        ("entry lock released profile_id=p1", .released),
        ("Entry lock released profile_id=p1", .released),
        ("fn_release_entry_lock_row returned true profile_id=p1", .released),
        ("lock acquisition failed profile_id=p1", .warning),
        ("LOCK ACQUISITION FAILED profile_id=p1", .warning),
        ("health lockContentionCount=3 tradingLoopHealthy=false", .health),
        (#"{"event":"health","reconciliationLoopHealthy":true}"#, .health),
    ] as [(String, RecordKind)])
    func recognisesEveryRecord(_ line: String, _ expected: RecordKind) {
        #expect(kind(line) == expected)
    }

    @Test(arguments: [
        "calling fn_try_acquire_entry_lock_row profile_id=p1 symbol=ETH-USD",
        #"POST /rest/v1/rpc/fn_try_acquire_entry_lock_row "HTTP/1.1 200 OK" profile_id=p1"#,
        "rpc done fn=fn_try_acquire_entry_lock_row result=false_x profile_id=p1",
        "rpc done fn=fn_try_acquire_entry_lock_row_v2 result=false profile_id=p1",
        "no lock acquisition failures today profile_id=p1",
        "fn_try_acquire_entry_lock_row returned falsey profile_id=p1",
    ])
    func ignoresDecoys(_ line: String) {
        #expect(kind(line) == nil)
    }

    @Test func aFailureWithoutProfileIsNotARecord() {
        guard case .noProfile = recognise("fn_try_acquire_entry_lock_row returned false symbol=ETH-USD") else {
            Issue.record("expected noProfile"); return
        }
    }

    @Test(arguments: [
        ("lock acquisition failed action=skip_signal profile_id=p1", true),
        ("lock acquisition failed signal_skipped=true profile_id=p1", true),
        ("lock acquisition failed skipped=true profile_id=p1", true),
        ("lock acquisition failed; Skipping signal profile_id=p1", true),
        ("lock acquisition failed skipped=false profile_id=p1", false),
        ("lock acquisition failed action=retry profile_id=p1", false),
    ])
    func tellsSkippedSignals(_ line: String, _ skipped: Bool) throws {
        guard case .record(let r, _) = recognise(line) else { Issue.record("no record"); return }
        #expect(r.skipped == skipped)
    }

    @Test func fillsTheLockRecord() throws {
        guard case .record(let r, let timeless) = recognise(app + " expires_at=2026-11-26T14:00:16.336Z latency_ms=5.6") else {
            Issue.record("no record"); return
        }
        #expect(!timeless)
        #expect(r == LockRecord(kind: .failed, time: EventTime(micros: base), profile: "p1", symbol: "ETH-USD", owner: "w1",
                                caller: "w2", expires: EventTime(micros: base + 16_336_000), latency: 0.0056,
                                origin: Origin(input: 0, line: 1)))
    }

    @Test func userRuleGroupsFillFields() throws {
        let rule = try Rule(name: "go-busy", kind: .failed,
                            pattern: #"^(?<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \S+ entry lock busy: profile=(?<profile>\S+) sym=(?<symbol>\S+) holder=(?<owner>\S+)"#)
        let line = "2026/11/26 14:00:00 main.go:12 entry lock busy: profile=p7 sym=BTC holder=w9"
        guard case .record(let r, _) = recognise(line, rules: [rule]) else {
            Issue.record("no record"); return
        }
        #expect(r.profile == "p7" && r.symbol == "BTC" && r.owner == "w9" && r.time.micros == base)
    }

    /// Two groups of one field that both match: the more specific name's capture wins, as a
    /// record's fields do, whatever the groups' order in the pattern.
    @Test func theMoreSpecificGroupWins() throws {
        for pattern in [#"busy: profile=(?<profile>\S+) (?<token>\S+) (?<caller_token>\S+) (?<holder>\S+) (?<owner>\S+)"#,
                        #"busy: profile=(?<profile>\S+) (?<caller_token>\S+) (?<token>\S+) (?<owner>\S+) (?<holder>\S+)"#] {
            let rule = try Rule(name: "busy", kind: .failed, pattern: pattern)
            let line = "2026-11-26 14:00:00,000 busy: profile=p7 a b c d"
            guard case .record(let r, _) = recognise(line, rules: [rule]) else {
                Issue.record("no record"); return
            }
            let tokenFirst = pattern.contains("(?<token>\\S+) (?<caller_token>")
            #expect(r.caller == (tokenFirst ? "b" : "a"), "\(pattern)")
            // `owner` is the field's own name, which a rule's group may use: it wins.
            #expect(r.owner == (tokenFirst ? "d" : "c"), "\(pattern)")
        }
    }

    @Test func unknownGroupNamesAreRejected() {
        #expect(throws: RuleError.self) { _ = try Rule(name: "x", kind: .failed, pattern: "(?<colour>x)") }
    }
}

/// A pathological rule cannot hang the tool: the match limit ends it, and the line counts as
/// one that hit the limit (unparsed, with a warning), while the next line is matched as usual.
@Test func pathologicalRuleHitsTheMatchLimit() throws {
    let evil = try Rule(name: "evil", kind: .failed, pattern: #"^(a+)+$"#, literals: [Literal("aaaa")])
    let rules = [evil] + DefaultRules.rules()
    let line = String(repeating: "a", count: 40) + "!"
    let started = Date()
    guard case .limitExceeded(let rule) = recognise(line, rules: rules) else {
        Issue.record("expected the match limit"); return
    }
    #expect(rule == "evil")
    #expect(Date().timeIntervalSince(started) < 5)
    #expect(kind("2026-11-26 14:00:00,000 fn_try_acquire_entry_lock_row returned false profile_id=p1") == .failed)
}

@Suite struct ByteParsingTests {
    /// Numbers read from bytes round exactly as the standard library's parser does.
    @Test func numbersMatchTheStandardParser() {
        var texts = ["0", "5.6", "2.3", "-12", "1e3", "0.1", "123456789.012345", "99999999999999999999", "5.", "x", ""]
        var g = TestRandom()
        for _ in 0..<2000 { texts.append("\(UInt32.random(in: 0...99999, using: &g)).\(UInt16.random(in: 0...9999, using: &g))") }
        for t in texts {
            var copy = t
            let got = copy.withUTF8 { parseNumber(UnsafeRawBufferPointer($0)) }
            #expect(got == Double(t), "\(t)")
        }
    }

    /// The built-in `*-fields` patterns step over whole tokens; they match exactly where the
    /// plain form (`.*` then "no non-space before") does: random lines of tokens near and far
    /// from the real ones, joined by every kind of blank, newlines included.
    @Test func fieldsPatternsMatchTheirPlainForm() throws {
        let plain = try Regex(#"^(?=.*(?<!\S)fn="?fn_try_acquire_entry_lock_row"?(?!\S))(?=.*(?<!\S)(?:result|acquired|ok)="?false"?(?!\S))"#,
                              options: [.utf])
        let rule = try #require(DefaultRules.rules().first { $0.name == "failed-fields" })
        let (a, b) = (plain.makeMatchData(), rule.regex.makeMatchData())
        let tokens = ["fn=fn_try_acquire_entry_lock_row", #"fn="fn_try_acquire_entry_lock_row""#, "fn=fn_try_acquire_entry_lock_row_x",
                      "xfn=fn_try_acquire_entry_lock_row", "result=false", #"ok="false""#, "acquired=false", "result=falsey",
                      "result=false\"", "=", "fn=", "profile_id=p1", "\"", "é", "a=b=c", ""]
        let blanks = [" ", "  ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", " \n "]
        var g = TestRandom()
        var matched = 0
        for _ in 0..<20_000 {
            var line = Bool.random(using: &g) ? blanks.randomElement(using: &g)! : ""
            for _ in 0..<Int.random(in: 0...6, using: &g) {
                line += tokens.randomElement(using: &g)! + blanks.randomElement(using: &g)!
            }
            if !line.isEmpty, Bool.random(using: &g) { line.removeLast() }
            let want = try plain.matches(line, with: a)
            #expect(try rule.regex.matches(line, with: b) == want, "\(line.debugDescription)")
            if want { matched += 1 }
        }
        #expect(matched > 500)
    }

    /// The table gives one name per text, across its growth, from bytes as from Strings,
    /// and from several threads at once, with its lookups' first reads asked for or not.
    @Test func namesAreInternedByBytes() async {
        let texts = (0..<5000).map { "profile-\($0)-" + String(repeating: "x", count: $0 % 23) } + [""]
        let first = texts.map { NameTable.shared.name($0) }
        #expect(Set(first).count == texts.count)
        #expect(texts.map { text in text.utf8.withContiguousStorageIfAvailable { NameTable.shared.name(UnsafeRawBufferPointer($0)) } } == first)
        #expect(first.map(\.string) == texts)
        let fresh = (0..<100_000).map { "concurrent-\($0)" }
        let seen = await withTaskGroup(of: [String: Name].self) { group in
            for k in 0..<4 {
                // Each task in its own order, so that they race to add the same names.
                let order = k % 2 == 0 ? fresh : fresh.reversed()
                // Half of them ask for the lookup's first read before it (as building a record
                // does for the profile) while the table grows past the size from which it
                // fetches (100 000 names more): asking must change nothing. (Whether the read
                // is the right one only the time shows: BENCHMARKS.md.)
                group.addTask {
                    Dictionary(uniqueKeysWithValues: order.map { text in
                        if k >= 2 { var t = text; t.withUTF8 { NameTable.shared.prefetch(UnsafeRawBufferPointer($0)) } }
                        return (text, NameTable.shared.name(text))
                    })
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(seen.allSatisfy { $0 == seen[0] })
        #expect(Set(seen[0].values).count == fresh.count)
        #expect(seen[0].allSatisfy { $0.value.string == $0.key })
        // Names longer than the table holds are cut to it, the same way every time.
        let most = Int(LW_NAME_MAX_BYTES)
        let long = String(repeating: "p", count: most + 5)
        #expect(NameTable.shared.name(long).string.utf8.count == most)
        #expect(NameTable.shared.name(long) == NameTable.shared.name(String(repeating: "p", count: most + 1)))
        #expect(NameTable.shared.name(long) != NameTable.shared.name(String(repeating: "p", count: most - 1)))
    }

    /// The decoder's gate stops only where no rule can match: every line of every fixture, and
    /// the calls and access lines of a worker log in each envelope, is a record with the gate
    /// exactly when it is one without, and the same record.
    @Test func gateStopsOnlyWhereNoRuleMatches() throws {
        let lines = try Self.fixtureLines() + Self.inEnvelopes([
            "DEBUG entry_lock: calling fn_try_acquire_entry_lock_row profile_id=p1 symbol=ETH-USD caller_token=w1:c1",
            #"DEBUG httpx: POST https://db.example/rest/v1/rpc/fn_try_acquire_entry_lock_row \"HTTP/1.1 200 OK\""#,
            "INFO entry_lock: entry lock released profile_id=p1 symbol=ETH-USD",
            "WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD owner_token=w2",
        ])
        let matcher = Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser())
        let decoder = RecordDecoder(year: 2026)
        var rejected = 0
        for line in lines {
            line.withUnsafeBytes { b in
                var gated = LogRecord(), whole = LogRecord()
                let failed = decoder.decode(b, into: &gated, gate: matcher)
                #expect(failed == decoder.decode(b, into: &whole))
                guard failed == nil else { return }
                var a: [LockRecord] = [], c: [LockRecord] = []
                let outcome = matcher.match(&whole, origin: Origin(input: 0, line: 1), appendingTo: &c)
                if gated.rejected {
                    rejected += 1
                    #expect(outcome == .none, "\(String(decoding: line, as: UTF8.self))")
                } else {
                    #expect(matcher.match(&gated, origin: Origin(input: 0, line: 1), appendingTo: &a) == outcome)
                    #expect(a == c, "\(String(decoding: line, as: UTF8.self))")
                }
            }
        }
        #expect(rejected >= 6)
    }

    /// The line gate turns a line away only where no rule can match it: on every fixture line,
    /// on lock lines in every envelope and shape, and on random JSON and text lines made of
    /// the pieces that could fool it (a literal spelled by a `\u` escape, split by `\/`, in a
    /// byte array, in a JSON record nested in a string, across a key and its value), a line the
    /// gate turns away is one that either does not decode or matches no rule.
    @Test func lineGateTurnsAwayOnlyWhatNoRuleMatches() throws {
        var lines = try Self.fixtureLines() + Self.inEnvelopes([
            "DEBUG entry_lock: calling fn_try_acquire_entry_lock_row profile_id=p1 symbol=ETH-USD caller_token=w1:c1",
            "DEBUG httpx: POST https://db.example/rest/v1/rpc/fn_try_acquire_entry_lock_row \\\"HTTP/1.1 200 OK\\\"",
            "INFO entry_lock: entry lock released profile_id=p1 symbol=ETH-USD",
            "WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD owner_token=w2",
            "WARNING entry_lock: fn_try_acquire_entry_lock_row returned f\\u0061lse profile_id=p1",
            "INFO entry lock rel\\u0065ased profile_id=p1",
            "fn=fn_try_acquire_entry_lock_row result=false profile_id=p1",
            "lock acquisition failed profile_id=p1 skipping signal",
            "health lockContentionCount=3 tradingLoopHealthy=false",
            // Escapes the JSON reader takes as the byte they escape.
            "WARNING entry_lock: fn_try_acquire_entry_lock_row returned f\\alse profile_id=p1",
            "fn_try_acquire_entry_lock_row returned tru\\e profile_id=p1",
            "fn_try_acquire_entry\\_lock_row returned true profile_id=p1 lock\\_foo",
        ], docker: true)
        // Random JSON records and text lines of pieces that could spell a literal only once decoded.
        let keys = ["msg", "fn", "result", "ok", "profile_id", "symbol", "entry", "lock", "x", "f\\u0061lse", "lockContentionCount",
                    "tradingLoopHealthy", "tr\\ue", "lock\\_foo"]
        let values = [#""fn_try_acquire_entry_lock_row""#, #""fn_try_acquire_entry_lock_row returned""#, "false", "true", #""false""#,
                      #""f\u0061lse""#, #""tr\u0075e""#, #""entry""#, #""lock released""#, #""entry lock""#, #""released""#, "1",
                      #""p1""#, "[102,97,108,115,101]", "null", #"{"a":"false"}"#, #""rel\/eased""#, #""a\\u0066alse""#,
                      #""{\"msg\":\"entry lock released\",\"profile_id\":\"p1\"}""#, #""acquisition""#, #""lock acquisition failed""#,
                      #""_lock_row""#, #""ContentionCount""#, #""f\alse""#, #""tru\e""#, #""\_lock_row""#, #""lock\_foo""#,
                      #""rel\eased""#, #""lock\tfoo""#]
        var g = TestRandom()
        for _ in 0..<20_000 {
            let members = (0..<Int.random(in: 1...6, using: &g)).map { _ in
                "\"\(keys.randomElement(using: &g)!)\":\(values.randomElement(using: &g)!)"
            }
            let json = "{" + members.joined(separator: ",") + "}"
            lines.append(Array(json.utf8))
            lines.append(Array(#"{"__REALTIME_TIMESTAMP":"1795701600000000","MESSAGE":"\#(json.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"}"#.utf8))
            lines.append(Array(("2026-11-26 14:00:00,000 " + members.joined(separator: " ")).utf8))
        }
        // The built-in rules, and a rule of a user's own before them whose literal has blanks,
        // a slash, an equals sign and a quote.
        let own = try Rule(name: "own", kind: .failed, pattern: #"lock_foo|lock\tfoo|rel.ased"#,
                           literals: [Literal(#"x lock_foo/a="b"#), Literal("LOCK\tFOO", caseInsensitive: true), Literal("rel")])
        let decoder = RecordDecoder(year: 2026)
        var turned = 0, records = 0
        for matcher in [Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser()),
                        Matcher(rules: [own] + DefaultRules.rules(), timestamps: TimestampParser())] {
            for line in lines {
                line.withUnsafeBytes { b in
                    var rec = LogRecord(), out: [LockRecord] = []
                    let outcome = decoder.decode(b, into: &rec) == nil ? matcher.match(&rec, origin: Origin(input: 0, line: 1), appendingTo: &out) : .none
                    if outcome != .none { records += 1 }
                    if !matcher.mayMatch(line: b) {
                        turned += 1
                        #expect(outcome == .none, "\(String(decoding: line, as: UTF8.self))")
                    }
                }
            }
        }
        #expect(turned > 5_000)
        #expect(records > 1_000)
    }

    /// What the line gate can read (`lw_gate_readable`, 16 bytes at a time): exactly the texts
    /// of ASCII without `]` whose every backslash comes before one of `"/bfnrt`, at any length
    /// and at any place in a block.
    @Test func lineGateReadsWhatItSays() {
        var g = TestRandom()
        let pieces = ["a", " ", "\\", "u", "]", "[", "\"", "é", "\u{7F}", "x\\n", "\\t", "/", "e", String(repeating: "w", count: 15)]
        var unreadable = 0
        for _ in 0..<20_000 {
            let bytes = Array((0..<Int.random(in: 0...40, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined().utf8)
            let want = bytes.indices.allSatisfy { i in
                bytes[i] < 0x80 && bytes[i] != UInt8(ascii: "]")
                    && (bytes[i] != UInt8(ascii: "\\") || i + 1 < bytes.count && "\"/bfnrt".utf8.contains(bytes[i + 1]))
            }
            if !want { unreadable += 1 }
            #expect(bytes.withUnsafeBytes { LineGate.isReadable($0) } == want, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        #expect(unreadable > 5_000 && unreadable < 19_000)
    }

    /// The prefilter's literals are read in a line's bytes as written (as `rg` reads them): a
    /// JSON line that spells its rule's literal only through `\u` escapes (which JSON writers
    /// do not write for ASCII) is skipped by a run, and `explain` says it is; the same line
    /// spelled plainly is a record.
    @Test func literalsSpelledOnlyByEscapesAreSkippedAsExplainSays() {
        let spelled = [
            (#""msg":"fn_try_acquire_entry\u005flock_row returned false""#, #""msg":"fn_try_acquire_entry_lock_row returned false""#),
            (#""msg":"lock acqui\u0073ition failed""#, #""msg":"lock acquisition failed""#),
            (#""msg":"entry l\u006Fck released""#, #""msg":"entry lock released""#),
        ]
        func matched(_ line: String) -> Int {
            Pipeline(configuration: Configuration(), sink: JSONPrinter(out: MemorySink()))
                .run(sources: [MemorySource(Array((line + "\n").utf8), name: "log")]).counts.matched
        }
        for (escaped, plain) in spelled {
            let line = #"{"time":"2026-11-26T14:00:00Z",\#(escaped),"profile_id":"p1"}"#
            #expect(matched(line) == 0, "\(line)")
            #expect(!Explanation(line: Array(line.utf8), configuration: Configuration()).passesPrefilter)
            #expect(matched(#"{"time":"2026-11-26T14:00:00Z",\#(plain),"profile_id":"p1"}"#) == 1)
        }
    }

    /// Every line of every fixture.
    static func fixtureLines() throws -> [[UInt8]] {
        try Fixture.all.flatMap { try $0.inputBytes().flatMap { $0.split(separator: 0x0A).map(Array.init) } }
    }

    /// Each message as a plain line, a syslog line and a journald entry (and a Docker line).
    static func inEnvelopes(_ messages: [String], docker: Bool = false) -> [[UInt8]] {
        messages.flatMap { m in
            ["2026-11-26 14:00:00,000 \(m)", "Nov 26 14:00:00 w1 worker[12]: \(m)",
             #"{"__REALTIME_TIMESTAMP":"1795701600000000","_HOSTNAME":"w1","MESSAGE":"\#(m)"}"#]
                + (docker ? [#"{"log":"\#(m)\n","stream":"stdout","time":"2026-11-26T14:00:00Z"}"#] : [])
        }.map { Array($0.utf8) }
    }
}
