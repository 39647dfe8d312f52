import Foundation
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

@Suite struct PrinterTests {
    let hostile = LockKey(profile: "p\u{1B}]0;pwned\u{07}\u{1B}[2J", symbol: "ETH\r\nUSD\u{9B}")

    @Test func textNeverWritesControlCharactersRaw() {
        let out = MemorySink()
        let printer = TextPrinter(out: out, color: false)
        printer.emit(.contentionStarted(at: t0, key: hostile, owner: "w\u{0}1", caller: nil, host: "h\u{7F}"))
        let text = out.text
        #expect(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) })
        #expect(text.contains(#"p\x1b]0;pwned\x07\x1b[2J"#))
        #expect(text.contains(#"symbol=ETH\r\nUSD\x9b"#))
        #expect(text.contains(#"owner=w\x001"#))
    }

    @Test func jsonEscapesControlCharacters() {
        let line = String(decoding: JSONPrinter.line(.contentionStarted(at: t0, key: hostile, owner: nil, caller: nil, host: nil)), as: UTF8.self)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().allSatisfy { $0 != "\n" && $0 != "\u{1B}" })
        #expect(line.contains(#""profile_id":"p\u001b]0;pwned\u0007\u001b[2J""#))
    }

    /// Names are quoted from their bytes: random bytes (invalid UTF-8, C0 and C1 controls,
    /// quotes, backslashes, DEL, accents) give what quoting the string they decode to gives.
    @Test func namesQuoteFromTheirBytesAsFromTheirStrings() {
        var g = TestRandom()
        let pieces: [[UInt8]] = [[0x61], [0x7A, 0x39], [0x22], [0x5C], [0x00], [0x0A], [0x1B], [0x7F], [0xC2, 0x9B], [0xC2, 0xA0],
                                 [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0x80], [0xC2], [0xFF], [0xE2, 0x82]]
        var escaped = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...6, using: &g)).flatMap { _ in pieces.randomElement(using: &g)! }
            let (fromBytes, fromString) = (ByteBuffer(capacity: 8), ByteBuffer(capacity: 8))
            bytes.withUnsafeBytes { JSONObjectText.appendQuoted($0, to: fromBytes) }
            JSONObjectText.appendQuoted(String(decoding: bytes, as: UTF8.self), to: fromString)
            #expect(fromBytes.bytes == fromString.bytes, "\(bytes)")
            if fromBytes.bytes.count != bytes.count + 2 { escaped += 1 }
            // Independently of how either quotes: no control byte raw (C0, DEL, C1), and JSON
            // reads back the text the bytes decode to.
            let q = fromBytes.bytes
            #expect(!q.contains { $0 < 0x20 || $0 == 0x7F } && !zip(q, q.dropFirst()).contains { $0 == 0xC2 && (0x80..<0xA0).contains($1) }, "\(q)")
            let back = try? JSONSerialization.jsonObject(with: Data(q), options: .fragmentsAllowed) as? String
            #expect(back == String(decoding: bytes, as: UTF8.self), "\(bytes)")
        }
        #expect(escaped > 5_000)
    }

    /// The summary line is the same however many threads format its profiles, in pieces
    /// of whatever size, and is one JSON object with every profile in order.
    @Test func summaryLineIsTheSameWithAnyNumberOfLanes() throws {
        var g = TestRandom()
        let n = JSONPrinter.profilesPerPiece * 5 + 7
        let profiles = (0..<n).map { k in
            let symbols = (0..<Int.random(in: 1...3, using: &g)).map { j in
                Summary.Symbol(symbol: j == 0 ? "" : "S\(j)\u{1B}", failures: k + j, skippedSignals: j, episodes: 1, escalations: k % 3,
                               maxContention: .seconds(Double(k % 50)),
                               owners: (0..<Int.random(in: 0...3, using: &g)).map { m in
                                   Summary.Owner(owner: "w\(k)-\(m)\"é", stats: OwnerStats(failures: m + 1, selfHeld: m == 1))
                               },
                               state: .recovered, escalated: k % 3 > 0)
            }
            return Summary.Profile(profileID: String(format: "p%06d", k), failures: 1, skippedSignals: 0, episodes: 1,
                                   escalated: false, symbols: symbols)
        }
        let s = Summary(counts: Summary.Counts(), firstAt: t0, lastAt: t0, escalations: 3, exit: 1, profiles: profiles, hosts: [])
        let one = JSONPrinter.summaryLine(s, lanes: 1)
        for lanes in [2, 3, 8] { #expect(JSONPrinter.summaryLine(s, lanes: lanes) == one, "\(lanes) lanes") }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one)) as? [String: Any])
        let ids = try #require(object["profiles"] as? [[String: Any]]).compactMap { $0["profile_id"] as? String }
        #expect(ids == profiles.map(\.profileID))
        #expect(one.last == 0x0A && one.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x1B })
    }

    /// Lines are built in a `ByteBuffer`: random appends of every kind, across many growths,
    /// give the bytes an array gives.
    @Test func byteBufferHoldsWhatWasAppended() {
        var g = TestRandom()
        let buffer = ByteBuffer(capacity: 16)
        var want: [UInt8] = []
        for _ in 0..<5_000 {
            let piece = (0..<Int.random(in: 0..<300, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            switch Int.random(in: 0..<4, using: &g) {
            case 0: for b in piece { buffer.append(b) }
            case 1: buffer.append(piece)
            case 2: piece.withUnsafeBytes { buffer.append($0) }
            default:
                let room = buffer.reserve(piece.count)
                for (k, b) in piece.enumerated() { room[k] = b }
                buffer.advance(by: piece.count)
            }
            want.append(contentsOf: piece)
            if Int.random(in: 0..<500, using: &g) == 0 { buffer.removeAll(); want.removeAll() }
        }
        #expect(buffer.bytes == want)
        #expect(buffer.count == want.count)
    }

    /// The printer's cache of encoded names starts over when its arena is full: names printed
    /// before and after, and again after they were dropped, come out right.
    @Test func encodedNamesSurviveTheArenaStartingOver() {
        let out = MemorySink()
        let printer = JSONPrinter(out: out)
        let names = (0..<1_500).map { k in "profile-\(k)-" + String(repeating: "x", count: 1_000) }
        for n in names + names.prefix(20) {
            printer.emit(.contentionStarted(at: t0, key: LockKey(profile: n, symbol: "S"), owner: nil, caller: nil, host: nil))
        }
        let lines = out.text.split(separator: "\n")
        #expect(lines.count == names.count + 20)
        let wrong = lines.indices.first { !lines[$0].contains("\"profile_id\":\"\(names[$0 % names.count])\"") }
        #expect(wrong == nil, "line \(wrong ?? 0) has the wrong name")
    }

    @Test func colourOnlyWhenAsked() {
        let plain = MemorySink(), coloured = MemorySink()
        let alert = Alert.recovered(at: t0, key: LockKey(profile: "p", symbol: "s"), since: t0, duration: .seconds(3),
                                    failures: 2, escalated: false)
        TextPrinter(out: plain, color: false).emit(alert)
        TextPrinter(out: coloured, color: true).emit(alert)
        #expect(!plain.text.contains("\u{1B}["))
        #expect(coloured.text.contains("\u{1B}[32mrecovered\u{1B}[0m"))
    }

    @Test func everyObjectHasTypeAndMillisecondTime() {
        let e = Escalation(at: t0 + .seconds(91), reason: .multiProfile, key: nil, profiles: ["a", "b"], since: t0,
                           failures: 3, owners: ["w1"])
        let line = String(decoding: JSONPrinter.line(.escalation(e)), as: UTF8.self)
        #expect(line.hasPrefix(#"{"type":"escalation","at":"2026-11-26T14:01:31.000Z","reason":"multi_profile","profiles":["a","b"],"since":"2026-11-26T14:00:00.000Z","failures":3,"owners":["w1"],"advice":["#))
        #expect(!line.contains("profile_id"))
    }
}
