import CScan
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

final class BytesSource: ByteSource {
    let bytes: [UInt8]
    let step: Int
    var offset = 0
    let name = "test"
    init(_ text: String, step: Int = 1 << 20) { bytes = Array(text.utf8); self.step = step }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(step, buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// Runs the reader and the scanner as the workers do, one chunk after the other.
func lines(_ text: String, literals: [Literal] = [Literal("lock")], step: Int = 1 << 20, chunk: Int = 64,
           max: Int = 1 << 20) throws -> (lines: [String], numbers: [Int], total: Int, truncated: Int) {
    let reader = ChunkReader(source: BytesSource(text, step: step), chunkBytes: chunk, maxLineBytes: max,
                             idleMilliseconds: nil)
    let scanner = ChunkScanner(prefilter: Prefilter(literals: literals), maxLineBytes: max)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: reader.bufferCapacity, alignment: 16)
    defer { buffer.deallocate() }
    var out: [String] = [], numbers: [Int] = [], total = 0, truncated = 0
    while case .chunk(let c) = try reader.next(into: buffer) {
        let (n, cut) = scanner.scan(UnsafeRawBufferPointer(buffer), c) { line, number, _ in
            out.append(String(decoding: line, as: UTF8.self))
            numbers.append(total + number)
        }
        total += n
        truncated += cut
    }
    return (out, numbers, total, truncated)
}

@Suite struct ChunkReaderTests {
    static let text = "a\nlock 1\r\nb\nc\nxx lock 2\nd\nlock 3"

    // Regression: a consumed literal hit survived the buffer roll and passed non-lock lines on.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 1000])
    func sameLinesWhateverTheReads(_ step: Int) throws {
        for chunk in [16, 4096] {
            let r = try lines(Self.text, step: step, chunk: chunk)
            #expect(r.lines == ["lock 1", "xx lock 2", "lock 3"])
            #expect(r.numbers == [2, 5, 7])
            #expect(r.total == 7)
        }
    }

    // Regression: a last chunk that ended with its newline counted one line too many.
    @Test func aFinalNewlineEndsTheLastLine() throws {
        #expect(try lines("a\nlock\n").total == 2)
        #expect(try lines("a\nlock\n", chunk: 4096).total == 2)
        #expect(try lines("a\nlock").total == 2)
    }

    @Test func literalAcrossAReadBoundaryIsFound() throws {
        let text = String(repeating: "x", count: 13) + "lo" + "ck\nz\n"
        #expect(try lines(text, step: 15, chunk: 16).lines == [String(repeating: "x", count: 13) + "lock"])
    }

    @Test func everyLineWithoutLiterals() throws {
        let r = try lines("a\n\nb", literals: [])
        #expect(r.lines == ["a", "", "b"])
        #expect(r.total == 3)
    }

    @Test func longLinesAreCutAndCounted() throws {
        let long = "lock " + String(repeating: "y", count: 500)
        for chunk in [16, 4096] {
            let r = try lines("a\n\(long)\nlock b\n\(long)", step: 7, chunk: chunk, max: 100)
            #expect(r.lines.count == 3)
            #expect(r.lines[0].utf8.count == 100)
            #expect(r.lines[1] == "lock b")
            #expect(r.lines[2].utf8.count == 100)
            #expect(r.truncated == 2)
            #expect(r.total == 4)
        }
    }

    @Test func caseInsensitiveLiteralsAndShortestFirst() {
        let p = Prefilter(literals: [Literal("_lock_row"), Literal("lock"), Literal("Healthy"), Literal("LOCK", caseInsensitive: true)])
        #expect(p.literals.map(\.description) == ["(?i)LOCK", "Healthy"])
        var text = "xx LoCk yy"
        #expect(text.withUTF8 { p.firstHit(in: UnsafeRawBufferPointer($0)) } == 3)
    }

    @Test(arguments: [0, 1, 31, 32, 33, 100, 1000])
    func simdFindsLiteralsAtEveryOffset(_ at: Int) {
        let p = Prefilter(literals: [Literal("_lock_row"), Literal("acquisition", caseInsensitive: true)])
        for lit in ["_lock_row", "ACQUISITION", "Acquisition"] {
            var text = String(repeating: "k_w lock row ", count: 200).prefix(at) + lit + String(repeating: "z", count: 70)
            #expect(text.withUTF8 { p.firstHit(in: UnsafeRawBufferPointer($0)) } == at, "\(lit) at \(at)")
            var miss = String(text.dropLast(70 + lit.count / 2))
            #expect(miss.withUTF8 { p.firstHit(in: UnsafeRawBufferPointer($0)) } == nil)
        }
    }

    /// On random short and long texts, the search finds a literal exactly when one occurs, and
    /// what it returns is where one starts — whatever the length and the tail.
    @Test func findsALiteralExactlyWhenOneOccurs() {
        var g = TestRandom()
        let sets: [[Literal]] = [
            [Literal("_lock_row"), Literal("acquisition", caseInsensitive: true), Literal("LoopHealthy")],
            [Literal("ab"), Literal("q")],
            [Literal("skipping signal", caseInsensitive: true)],
            // Case folds ASCII letters only: `é` is not implied by a folded `É`, and must be kept.
            [Literal("É", caseInsensitive: true), Literal("é")],
        ]
        let words = ["é", "É", "e", "_lock_row", "_lock_ro", "ACQUISITION", "acquisitio", "LoopHealthy", "loophealthy", "ab", "a", "b",
                     "q", "Q", "Skipping Signal", "skipping", " ", "x", "yz", "\n", String(repeating: "w", count: 30)]
        for literals in sets {
            let p = Prefilter(literals: literals)
            func occurs(_ bytes: [UInt8], at i: Int) -> Bool {
                literals.contains { l in
                    let t = Array(l.text.utf8)
                    guard i + t.count <= bytes.count else { return false }
                    return (0..<t.count).allSatisfy { k in
                        l.caseInsensitive ? bytes[i + k] | 0x20 == t[k] | 0x20 : bytes[i + k] == t[k]
                    }
                }
            }
            for _ in 0..<3000 {
                let text = (0..<Int.random(in: 0...24, using: &g)).map { _ in words.randomElement(using: &g)! }.joined()
                let bytes = Array(text.utf8)
                let any = bytes.indices.contains { occurs(bytes, at: $0) }
                let hit = bytes.withUnsafeBytes { p.firstHit(in: $0) }
                #expect((hit != nil) == any, "\(literals) in \(text.debugDescription)")
                if let hit {
                    #expect(occurs(bytes, at: hit), "\(literals) at \(hit) in \(text.debugDescription)")
                    // No literal starts earlier than a literal's length before the hit (what the
                    // matcher's gates rely on when they search from there).
                    let reach = literals.map(\.text.utf8.count).max()!
                    let early = (0..<max(0, hit - reach + 1)).contains { occurs(bytes, at: $0) }
                    #expect(!early, "\(literals): one before \(hit) - \(reach) in \(text.debugDescription)")
                }
            }
        }
    }

    /// On random short and long texts, the one-pass search for every literal of a set
    /// (`lw_literals_present`, the line gate's) names exactly the literals that occur.
    @Test func findsWhichLiteralsOccur() {
        var g = TestRandom()
        let sets: [[Literal]] = [
            ["_lock_row", "false", "true", "released", "entry", "acquisition", "ContentionCount", "LoopHealthy"].map { Literal($0) },
            [Literal("ab"), Literal("q"), Literal("abc"), Literal("b")],
            (0..<16).map { Literal("w\($0)x", caseInsensitive: $0 % 3 == 0) },
            [Literal("entry", caseInsensitive: true), Literal("RELEASED", caseInsensitive: true), Literal("É", caseInsensitive: true)],
        ]
        let words = ["é", "É", "_lock_row", "_lock_ro", "false", "fals", "true", "TRUE", "released", "Released", "entry", "ENTRY",
                     "acquisition", "ContentionCount", "LoopHealthy", "ab", "a", "b", "q", "abc", " ", "x", "w1x", "W3X", "w15x",
                     "w9", "\n", String(repeating: "w", count: 30)]
        for literals in sets {
            var set = lw_literals()
            for l in literals {
                var text = l.text
                #expect(text.withUTF8 { lw_literals_add(&set, $0.baseAddress, $0.count, l.caseInsensitive ? 1 : 0) } == 0)
            }
            for _ in 0..<3000 {
                let text = (0..<Int.random(in: 0...30, using: &g)).map { _ in words.randomElement(using: &g)! }.joined()
                let bytes = Array(text.utf8)
                var want: UInt32 = 0
                for (k, l) in literals.enumerated() {
                    let t = Array(l.text.utf8)
                    let fold = { (c: UInt8) in l.caseInsensitive && (c | 0x20) >= 97 && (c | 0x20) <= 122 ? c | 0x20 : c }
                    if bytes.count >= t.count, (0...(bytes.count - t.count)).contains(where: { i in t.indices.allSatisfy { fold(bytes[i + $0]) == fold(t[$0]) } }) {
                        want |= 1 << k
                    }
                }
                let got = bytes.withUnsafeBufferPointer { lw_literals_present(&set, $0.baseAddress, $0.count) }
                #expect(got == want, "\(literals) in \(text.debugDescription)")
            }
        }
    }

    @Test func newlineCountingMatchesAByteLoop() {
        var bytes = [UInt8](repeating: 65, count: 10_000)
        for i in stride(from: 3, to: 10_000, by: 7) { bytes[i] = 0x0A }
        // Every length up to a few blocks (the 128-byte loop, 32-byte steps, the last block
        // overlapping), at a few starts, and some long ones.
        for start in 0..<3 {
            for n in Array(0...300) + [5000, 9_990] {
                let expected = bytes[start..<start + n].filter { $0 == 0x0A }.count
                #expect(bytes.withUnsafeBytes { countNewlines(UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) } == expected,
                        "\(start) + \(n)")
            }
        }
    }

    /// The prefilter counts the lines it passes over in the same pass: on random text, the
    /// candidates' line numbers and the line total are those of a plain split.
    @Test func lineNumbersMatchAPlainSplit() throws {
        var g = TestRandom()
        let words = ["lock", "x", "yy", "\n", "\n", "\n", "lo", "ck", String(repeating: "z", count: 40), "\r\n"]
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 0...120, using: &g)).map { _ in words.randomElement(using: &g)! }.joined()
            // Split as bytes: a String splits at Characters, and "\r\n" is one.
            var parts = Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            if text.isEmpty || text.utf8.last == 0x0A { parts.removeLast() }
            let want = parts.enumerated().filter { $0.element.contains("lock") }.map { $0.offset + 1 }
            for chunk in [16, 100, 4096] {
                let r = try lines(text, step: 37, chunk: chunk)
                #expect(r.numbers == want, "\(chunk): \(text.debugDescription)")
                #expect(r.total == parts.count, "\(chunk): \(text.debugDescription)")
            }
        }
    }
}

@Suite struct CollectorFramingTests {
    /// CRI partial lines, streams interleaved, joined by the reader whatever the reads and chunk
    /// sizes, give what joining the whole input at once by the plain rule gives: per stream, the
    /// parts up to the final one make one line where the final one was, with the first part's
    /// time; the line count is that of the lines read.
    @Test func criPartialLinesAreJoinedWhateverTheChunks() throws {
        var g = TestRandom()
        for round in 0..<200 {
            var raw: [String] = []
            var want: [String] = []
            var open: [String: (head: String, text: String)] = [:]
            var n = 0
            for i in 0..<Int.random(in: 1...30, using: &g) {
                let stream = Bool.random(using: &g) ? "stdout" : "stderr"
                let tag = Int.random(in: 0..<3, using: &g) == 0 ? "P" : "F"
                let time = "2026-11-26T14:00:\(String(format: "%02d", i % 60)).00000\(i % 10)000Z"
                let text = "lock part \(i) " + String(repeating: "x", count: Int.random(in: 0...40, using: &g))
                raw.append("\(time) \(stream) \(tag) \(text)")
                n += 1
                if tag == "P" {
                    if open[stream] == nil { open[stream] = ("\(time) \(stream) F ", text) } else { open[stream]!.text += text }
                } else if let o = open.removeValue(forKey: stream) {
                    want.append(o.head + o.text + text)
                } else {
                    want.append("\(time) \(stream) F \(text)")
                }
            }
            for stream in open.keys.sorted() { want.append(open[stream]!.head + open[stream]!.text) }
            let text = raw.joined(separator: "\n") + "\n"
            for (step, chunk) in [(1 << 20, 1 << 16), (7, 64), (1, 200), (333, 128)] {
                let r = try lines(text, step: step, chunk: chunk, max: 1 << 16)
                #expect(r.lines == want, "round \(round), reads of \(step), chunks of \(chunk)")
                #expect(r.total == n)
                if r.lines != want {
                    print("RAW", raw.joined(separator: "\n"))
                    for (a, b) in zip(r.lines, want) where a != b { print("GOT ", a); print("WANT", b); break }
                    print("COUNTS", r.lines.count, want.count)
                    return
                }
            }
        }
    }

    /// A UTF-8 byte-order mark at the start of an input is not part of its first line.
    @Test func aByteOrderMarkIsSkipped() throws {
        for step in [1, 2, 5, 100] {
            let r = try lines("\u{FEFF}lock 1\nlock 2\n", step: step)
            #expect(r.lines == ["lock 1", "lock 2"])
        }
    }
}
