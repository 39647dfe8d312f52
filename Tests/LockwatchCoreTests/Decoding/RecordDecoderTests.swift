import Foundation
import CScan
#if canImport(Glibc)
import Glibc
#endif
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

func decode(_ line: String, format: InputFormat = .auto, year: Int? = 2026) -> LogRecord? {
    let d = RecordDecoder(format: format, year: year)
    var copy = line
    return copy.withUTF8 { try? d.decode(UnsafeRawBufferPointer($0)).get() }
}

let app = "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD owner_token=w1 caller_token=w2"

@Suite struct RecordDecoderTests {
    @Test(arguments: [
        (#"{"__REALTIME_TIMESTAMP":"1795701600003000","_HOSTNAME":"worker-2","MESSAGE":"hello profile_id=p1"}"#, Envelope.journaldJSON, "worker-2"),
        ("2026-11-26T14:00:00.003000+0000 worker-2 trading-worker[10886]: hello profile_id=p1", .shortISO, "worker-2"),
        ("2026-11-26T14:00:00.003000+00:00 worker-2 trading-worker[10886]: hello profile_id=p1", .shortISO, "worker-2"),
        ("Nov 26 14:00:00.003000 worker-2 trading-worker[10886]: hello profile_id=p1", .short, "worker-2"),
        ("Nov 26 14:00:00.003 worker-2 trading-worker: hello profile_id=p1", .short, "worker-2"),
        ("1795701600.003000 worker-2 trading-worker[10886]: hello profile_id=p1", .shortUnix, "worker-2"),
        ("2026-11-26T14:00:00.003000000Z stderr F hello profile_id=p1", .cri, nil),
        (#"{"log":"hello profile_id=p1\n","stream":"stderr","time":"2026-11-26T14:00:00.003Z"}"#, .docker, nil),
        ("hello profile_id=p1", .none, nil),
    ] as [(String, Envelope, String?)])
    func detectsEveryEnvelope(_ line: String, _ envelope: Envelope, _ host: String?) throws {
        let r = try #require(decode(line))
        #expect(r.envelope == envelope)
        #expect(r.fields[.profile] == "p1")
        #expect(r.envelopeHost == host)
        if envelope != .none {
            #expect(r.time?.micros == base + 3000)
            #expect(r.timeSource == .envelope)
        }
    }

    /// A plain line whose time is RFC 3339 with `T` is a plain line, whatever its zone: a log
    /// level after the time is never a host, and short-iso needs `identifier[pid]:`.
    /// Regression: such lines were taken for short-iso with the level as the host, and a
    /// failure and its warning (levels WARNING and ERROR) did not pair.
    @Test(arguments: [("Z", 0), ("+00:00", 0), ("+0000", 0), ("+02:00", -7200), ("-0530", 19800), ("", 0)] as [(String, Int64)])
    func anISOTimeWithTIsAPlainLine(_ zone: String, _ shift: Int64) throws {
        for level in ["WARNING", "ERROR", "info", "[WARN]", "Critical:"] {
            let r = try #require(decode("2026-11-26T14:00:00.003\(zone) \(level) entry_lock: hello profile_id=p1"))
            #expect(r.envelope == .none, "\(level) \(zone)")
            #expect(r.envelopeHost == nil)
            #expect(r.time?.micros == base + 3000 + shift * 1_000_000)
        }
        let iso = try #require(decode("2026-11-26T14:00:00.003\(zone) worker-2 entry_lock: hello profile_id=p1"))
        #expect(iso.envelope == .none, "no [pid]: not short-iso")
        #expect(RecordDecoder.isLevelWord(UnsafeRawBufferPointer(start: nil, count: 0)) == false)
    }

    @Test func appTimeWinsOverEnvelopeTime() throws {
        let r = try #require(decode("2026-11-26T14:00:05.000000+0000 worker-2 trading-worker[1]: \(app)"))
        #expect(r.time?.micros == base)
        #expect(r.timeSource == .app)
        #expect(r.shape == .plain)
    }

    @Test(arguments: [
        (#"ts=2026-11-26T14:00:00.000Z level=warn logger=entry_lock msg="fn_try_acquire_entry_lock_row returned false" profile_id=p1 symbol="ETH-USD" owner_token=w1 caller_token=w2 expires_at=2026-11-26T14:00:16.336Z latency_ms=5.6"#, AppShape.logfmt),
        (#"{"timestamp":"2026-11-26T14:00:00.000000Z","level":"warning","event":"fn_try_acquire_entry_lock_row returned false","profile_id":"p1","symbol":"ETH-USD","owner_token":"w1","caller_token":"w2","expires_at":"2026-11-26T14:00:16.336Z","latency_ms":5.6}"#, .json),
        (#"{"level":40,"time":1795701600000,"hostname":"worker-2","msg":"fn_try_acquire_entry_lock_row returned false","profileId":"p1","instrument":"ETH-USD","ownerToken":"w1","callerToken":"w2","expiresAt":"2026-11-26T14:00:16.336Z","latencyMs":5.6}"#, .json),
        ("2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 sym=ETH-USD holder=w1 worker_token=w2 locked_until=2026-11-26T14:00:16.336Z elapsed_ms=5.6", .plain),
    ] as [(String, AppShape)])
    func readsEveryAppShapeAndAlias(_ line: String, _ shape: AppShape) throws {
        let r = try #require(decode(line))
        #expect(r.shape == shape)
        #expect(r.time?.micros == base)
        #expect(r.fields[.profile] == "p1")
        #expect(r.fields[.symbol] == "ETH-USD")
        #expect(r.fields[.owner] == "w1")
        #expect(r.fields[.caller] == "w2")
        #expect(r.fields[.expires] == "2026-11-26T14:00:16.336Z")
        #expect(r.fields[.latencyMs] == "5.6")
    }

    @Test func journaldMessageAsByteArray() throws {
        let bytes = Array("hello profile_id=p1 \u{1B}[31m".utf8).map(String.init).joined(separator: ",")
        let r = try #require(decode(#"{"__REALTIME_TIMESTAMP":"1795701600000000","MESSAGE":[\#(bytes)]}"#))
        #expect(r.fields[.profile] == "p1")
        #expect(r.envelope == .journaldJSON)
    }

    /// JSON strings read as Foundation's parser reads them: escapes of every kind at every
    /// place around the 16-byte steps of the string scan, and text that is not ASCII.
    @Test func jsonStringsReadAsFoundationReadsThem() throws {
        var g = TestRandom()
        let pieces = [#"\""#, #"\\"#, #"\/"#, #"\n"#, #"\t"#, #"\u00e9"#, #"\ud83d\ude00"#, "é", "x", "yz", " ", "=", "\u{1F600}"]
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &g) { text += pieces.randomElement(using: &g)! }
            let line = #"{"__REALTIME_TIMESTAMP":"1795701600000000","_HOSTNAME":"h\#(text)","MESSAGE":"\#(text)"}"#
            let want = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            let r = try #require(decode(line), "\(line)")
            #expect(r.withSubject { String(decoding: $0, as: UTF8.self) } == want["MESSAGE"], "\(line)")
            #expect(r.envelopeHost == want["_HOSTNAME"], "\(line)")
        }
    }

    @Test func keyValuePairsCountOnlyAsWholeTokens() throws {
        let r = try #require(decode("msg x=1 result=false_x notprofile_id=p9 (profile_id=p8) profile_id=p1"))
        #expect(r.fields[.result] == "false_x")
        #expect(r.fields[.profile] == "p1")
    }

    @Test func malformedJSONIsAFailureNotACrash() {
        let d = RecordDecoder()
        var line = #"{"MESSAGE":"fn_try_acquire_entry_lock_row returned false"#
        let result = line.withUTF8 { d.decode(UnsafeRawBufferPointer($0)) }
        #expect(throws: DecodeFailure.malformedJSON) { try result.get() }
    }

    @Test func deeplyNestedJSONIsSkippedWithoutRecursion() throws {
        let nested = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let r = try #require(decode(#"{"deep":\#(nested),"msg":"x","profile_id":"p1"}"#))
        #expect(r.fields[.profile] == "p1")
    }

    /// 20 000 fields on one line, as key=value pairs and as JSON members: every field is
    /// looked at once, and the ones lockwatch knows are found.
    @Test func twentyThousandFieldsOnOneLine() throws {
        let pairs = (0..<20_000).map { "k\($0)=v\($0)" }.joined(separator: " ")
        let r = try #require(decode("fn_try_acquire_entry_lock_row returned false \(pairs) profile_id=p1 symbol=S"))
        #expect(r.fields[.profile] == "p1" && r.fields[.symbol] == "S")
        let members = (0..<20_000).map { #""k\#($0)":"v\#($0)""# }.joined(separator: ",")
        let j = try #require(decode(#"{\#(members),"msg":"fn_try_acquire_entry_lock_row returned false","profile_id":"p2"}"#))
        #expect(j.fields[.profile] == "p2")
        if case .record(let rec, _) = recognise("2026-11-26 14:00:00,000 fn_try_acquire_entry_lock_row returned false \(pairs) profile_id=p3") {
            #expect(rec.profile == "p3")
        } else {
            Issue.record("the wide line was not recognised")
        }
    }

    @Test func forcedFormatRejectsOtherEnvelopes() {
        #expect(decode("hello profile_id=p1", format: .forced(.journaldJSON)) == nil)
        #expect(decode("2026-11-26T14:00:00.003000000Z stderr F x", format: .forced(.cri))?.envelope == .cri)
        #expect(decode("2026-11-26T14:00:00.003000000Z stderr F x", format: .forced(.none))?.envelope == Envelope.none)
    }
}

@Suite struct FieldSetTests {
    /// FieldSet stores one inline slot per Field: adding a Field needs a slot.
    @Test func oneSlotPerField() {
        #expect(Field.allCases.count <= FieldSet.Spans.capacity)
        #expect(MemoryLayout<FieldSet.Spans>.size == FieldSet.Spans.capacity * 8)
        var f = FieldSet()
        for field in Field.allCases { f[field] = field.name }
        #expect(Field.allCases.allSatisfy { f[$0] == $0.name })
        var g = f
        g[.profile] = "other"
        #expect(f[.profile] == "profile" && g[.profile] == "other")
    }
}

@Suite struct KeyValueScannerTests {
    /// The definition of a pair, token by token; the scanner jumps from `=` to `=` instead
    /// and must find exactly the same pairs.
    static func reference(_ b: [UInt8]) -> [(String, Range<Int>, Bool)] {
        var out: [(String, Range<Int>, Bool)] = []
        var i = 0
        let n = b.count
        func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        while i < n {
            while i < n, space(b[i]) { i += 1 }
            let keyStart = i
            while i < n, KeyValueScanner.isKeyByte(b[i]) { i += 1 }
            if i < n, i > keyStart, b[i] == UInt8(ascii: "=") {
                let key = String(decoding: b[keyStart..<i], as: UTF8.self)
                i += 1
                if i < n, b[i] == UInt8(ascii: "\"") {
                    i += 1
                    let vStart = i
                    var escaped = false
                    while i < n, b[i] != UInt8(ascii: "\"") {
                        if b[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                        i += 1
                    }
                    let vEnd = min(i, n)
                    i = min(i + 1, n)
                    if i == n || space(b[i]) { out.append((key, vStart..<vEnd, escaped)) }
                } else {
                    let vStart = i
                    while i < n, !space(b[i]) { i += 1 }
                    out.append((key, vStart..<i, false))
                }
            }
            while i < n, !space(b[i]) { i += 1 }
        }
        return out
    }

    @Test func findsTheSamePairsAsTheTokenDefinition() {
        // Short keys, keys longer than eight bytes (compared past their first word), keys that
        // share their first eight bytes, and fields with several names (ranked in this order).
        let names: [(String, Field)] = [("a", .profile), ("b", .symbol), ("ab", .owner), ("a_b", .caller), ("_", .host),
                                        (".b", .expires), ("aaaaaaaab", .latencyMs), ("aaaaaaaaa", .latencySeconds),
                                        ("a.a.a.a.a.a", .time), ("b_", .profile), ("ba", .profile), ("a.", .owner)]
        let keys = KeyValueScanner.Keys(names)
        defer { keys.table.deallocate() }
        var field: [String: (Field, Int)] = [:]
        for (k, f) in names { field[k] = (f, names.prefix { $0.0 != k }.filter { $0.1 == f }.count) }
        let alphabet = Array(#"ab_.=="\ (x"#.utf8) + [0x09]
        var g = TestRandom()
        for round in 0..<20_000 {
            var line = (0..<Int.random(in: 0...24, using: &g)).map { _ in alphabet.randomElement(using: &g)! }
            if round % 4 == 0 { line.insert(contentsOf: (Bool.random(using: &g) ? "aaaaaaaab=" : "a.a.a.a.a.a=").utf8, at: 0) }
            // What the definition gives: per field the first value under its best-ranked name,
            // in its slot, or apart when it is escaped.
            var best: [Field: (rank: Int, range: Range<Int>, escaped: Bool)] = [:]
            for (key, value, escaped) in Self.reference(line) {
                guard let (f, rank) = field[key], rank < best[f]?.rank ?? .max else { continue }
                best[f] = (rank, (value.lowerBound + 7)..<(value.upperBound + 7), escaped)
            }
            var want = FieldSet.Spans()
            var wantEscaped: [Field: Range<Int>] = [:]
            for (f, v) in best { if v.escaped { wantEscaped[f] = v.range } else { want[f] = v.range } }
            var got = FieldSet.Spans()
            var gotEscaped: [(Field, Range<Int>)] = []
            line.withUnsafeBytes { KeyValueScanner.fill(&got, from: $0, base: 7, keys: keys, escaped: &gotEscaped) }
            let same = got == want && gotEscaped.count == wantEscaped.count && gotEscaped.allSatisfy { wantEscaped[$0.0] == $0.1 }
            #expect(same, "round \(round): \(String(decoding: line, as: UTF8.self))")
            if !same { break }
        }
    }

    /// A field given under several names takes the most specific one's value, whatever the
    /// order, in every shape: zap's `caller` (its source location) does not shadow the caller's
    /// token, and a generic `owner` does not shadow `owner_token`.
    @Test(arguments: [
        "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false caller=lock.go:42 owner=x profile_id=p1 owner_token=w1 caller_token=w2",
        "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 owner_token=w1 caller_token=w2 caller=lock.go:42 owner=x",
        "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false caller=\"lock.go:42\" owner=\"x\\\"\" profile_id=p1 owner_token=\"w1\" caller_token=\"w2\"",
        "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false caller=lock.go:42 owner=\"x\" profile_id=p1 owner_token=\"w\\1\" caller_token=w2",
        #"{"ts":1795701600.0,"caller":"lock/entry.go:42","owner":"x","msg":"fn_try_acquire_entry_lock_row returned false","profile_id":"p1","owner_token":"w1","caller_token":"w2"}"#,
        #"{"ts":1795701600.0,"msg":"fn_try_acquire_entry_lock_row returned false","profile_id":"p1","owner_token":"w1","caller_token":"w2","caller":"lock/entry.go:42","owner":"x"}"#,
        #"{"__REALTIME_TIMESTAMP":"1795701600000000","_HOSTNAME":"h","MESSAGE":"{\"caller\":\"lock/entry.go:42\",\"msg\":\"fn_try_acquire_entry_lock_row returned false\",\"profile_id\":\"p1\",\"owner_token\":\"w1\",\"caller_token\":\"w2\"}"}"#,
    ])
    func theMostSpecificNameWins(_ line: String) throws {
        // (`token` outranks `caller`, too.)
        #expect(decode(app.replacingOccurrences(of: "caller_token=w2", with: "caller=lock.go:42 token=t9"))?.fields[.caller] == "t9")
        // An empty value, and JSON's null, are values of the name they come under.
        #expect(decode(#"{"ts":1795701600.0,"caller":"lock/entry.go:42","msg":"x","caller_token":null}"#)?.fields[.caller] == "")
        #expect(decode(#"{"ts":1795701600.0,"msg":null,"message":"m","caller_token":"","caller":"c"}"#).map { ($0.fields[.caller], $0.fields[.message]) }! == ("", "m"))
        let r = try #require(decode(line))
        #expect(r.fields[.caller] == "w2")
        #expect(r.fields[.owner] == "w1")
        #expect(r.fields[.profile] == "p1")
    }

    /// A field already set when the scan starts keeps its value, whatever the line says.
    @Test func aFieldSetBeforeTheScanIsKept() {
        let keys = KeyValueScanner.Keys.aliases
        for line in ["owner_token=w1 owner=x", "owner=\"a\\\"b\" owner_token=w1", "owner_token=\"w\\\"1\""] {
            var spans = FieldSet.Spans()
            spans[.owner] = 100..<103
            var escaped: [(Field, Range<Int>)] = []
            Array(line.utf8).withUnsafeBytes { KeyValueScanner.fill(&spans, from: $0, base: 0, keys: keys, escaped: &escaped) }
            #expect(spans[.owner] == 100..<103 && escaped.isEmpty, "\(line)")
        }
    }

    /// The vector scan (lines up to 4 KiB) against the byte-at-a-time one, on lines long enough
    /// to cross its 32- and 64-byte blocks, with real aliases and runs of key bytes.
    @Test func vectorScanFindsWhatTheByteScanFinds() {
        let keys = KeyValueScanner.Keys.aliases
        let pieces = ["profile_id=", "symbol=", "owner_token=", "caller", "=", "\"", "\\", " ", "\t", "x", "ab-c.d@e_f",
                      "expires_at=\"2026 x\"", "lock_owner=w", "é", "\u{7F}", "0"].map { Array($0.utf8) }
        var g = TestRandom()
        for round in 0..<20_000 {
            var line: [UInt8] = []
            let target = round % 50 == 0 ? Int.random(in: 4000...4200, using: &g) : Int.random(in: 0...300, using: &g)
            while line.count < target { line += pieces.randomElement(using: &g)! }
            func fill(_ f: (UnsafePointer<lw_keytable>?, UnsafePointer<UInt8>?, Int, Int, UnsafeMutablePointer<UInt64>?, Int32,
                            UnsafeMutablePointer<lw_kv_escaped>?, Int32) -> Int32) -> [UInt64] {
                var slots = [UInt64](repeating: 0, count: 20)
                var esc = [lw_kv_escaped](repeating: lw_kv_escaped(), count: 32)
                let n = line.withUnsafeBufferPointer { b in f(keys.table, b.baseAddress, b.count, 3, &slots, 20, &esc, 32) }
                return slots + esc.prefix(Int(n)).flatMap { [UInt64($0.field), UInt64($0.start), UInt64($0.end)] }
            }
            let same = fill(lw_kv_fill) == fill(lw_kv_fill_scalar)
            #expect(same, "round \(round): \(String(decoding: line, as: UTF8.self))")
            if !same { break }
        }
    }

    /// The vector scan reads up to 32 bytes at a time, past a line's end only within its page:
    /// lines (and keys) that end exactly where readable memory ends must neither fault nor
    /// differ from the byte scan.
    @Test func vectorScanStopsAtTheEdgeOfReadableMemory() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let map = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              map != MAP_FAILED else { throw CancellationError() }
        defer { munmap(map, 2 * page) }
        #expect(mprotect(map + page, page, PROT_NONE) == 0)
        let keys = KeyValueScanner.Keys.aliases
        let text = Array("x profile_id=p1 sym=BTC owner=\"w 1\" caller_token=worker-2:9c5aafb2 latency_ms=7.0 a=b=".utf8)
        for length in 0...text.count {
            // The line's last byte is the last readable byte.
            let start = map + page - length
            for k in 0..<length { start.storeBytes(of: text[text.count - length + k], toByteOffset: k, as: UInt8.self) }
            let line = start.assumingMemoryBound(to: UInt8.self)
            var vector = [UInt64](repeating: 0, count: 20), scalar = vector
            var esc = [lw_kv_escaped](repeating: lw_kv_escaped(), count: 4)
            let a = lw_kv_fill(keys.table, line, length, 0, &vector, 20, &esc, 4)
            let b = lw_kv_fill_scalar(keys.table, line, length, 0, &scalar, 20, &esc, 4)
            #expect(a == b && vector == scalar, "\(length) bytes")
            var rank: Int32 = 0
            _ = lw_keytable_lookup_ranked(keys.table, line, length, &rank)
        }
    }

    /// The vector scan's byte classes (a key byte, a blank) are the byte scan's, for every byte
    /// value. A byte inside a key decides whether a quoted value is skipped whole (the pair
    /// inside the quotes is taken only when the key before it is not one), in the 32 bytes before
    /// an `=` and past them; a blank ends a value and starts a key.
    @Test func vectorScanClassifiesEveryByteAsTheByteScanDoes() {
        let keys = KeyValueScanner.Keys.aliases
        let quoted = Array(#"k="v symbol=X""#.utf8)
        for c in 0...255 {
            let b = UInt8(c)
            for line in [Array("k".utf8) + [b] + quoted, Array(String(repeating: "a", count: 40).utf8) + [b] + quoted,
                         Array("symbol=v".utf8) + [b] + Array("owner=w".utf8), [b] + Array("symbol=v".utf8)] {
                var vector = [UInt64](repeating: 0, count: 20), scalar = vector
                var esc = [lw_kv_escaped](repeating: lw_kv_escaped(), count: 4)
                let n1 = lw_kv_fill(keys.table, line, line.count, 0, &vector, 20, &esc, 4)
                let n2 = lw_kv_fill_scalar(keys.table, line, line.count, 0, &scalar, 20, &esc, 4)
                #expect(n1 == n2 && vector == scalar, "byte \(c) in \(line)")
            }
        }
    }

    @Test func looksUpEveryAliasAndNothingElse() {
        let keys = KeyValueScanner.Keys.aliases
        for f in Field.allCases {
            for (rank, a) in f.aliases.enumerated() {
                var k = a
                let found = k.withUTF8 { keys.rankedLookup(UnsafeRawBufferPointer($0)) }
                #expect(found?.field == f && found?.rank == rank, "\(a)")
                var longer = a + "x"
                #expect(longer.withUTF8 { keys.rankedLookup(UnsafeRawBufferPointer($0)) } == nil, "\(a)x")
            }
        }
    }
}
