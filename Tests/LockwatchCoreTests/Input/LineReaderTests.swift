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

func lines(_ text: String, literals: [String] = ["lock"], step: Int = 1 << 20, chunk: Int = 64, max: Int = 1 << 20)
    throws -> (lines: [String], numbers: [Int], total: Int, truncated: Int) {
    let r = LineReader(source: BytesSource(text, step: step), prefilter: Prefilter(literals: literals),
                       maxLineBytes: max, chunk: chunk)
    var out: [String] = [], numbers: [Int] = []
    while let l = try r.next() {
        out.append(String(decoding: l.bytes, as: UTF8.self))
        numbers.append(l.number)
    }
    return (out, numbers, r.lines, r.truncatedLines)
}

@Suite struct LineReaderTests {
    static let text = "a\nlock 1\r\nb\nc\nxx lock 2\nd\nlock 3"

    // Regression: a consumed literal hit survived the buffer roll and passed non-lock lines on.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 1000])
    func sameLinesWhateverTheChunks(_ step: Int) throws {
        let r = try lines(Self.text, step: step, chunk: 16)
        #expect(r.lines == ["lock 1", "xx lock 2", "lock 3"])
        #expect(r.numbers == [2, 5, 7])
        #expect(r.total == 7)
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
        let r = try lines("a\n\(long)\nlock b\n", step: 7, chunk: 16, max: 100)
        #expect(r.lines.count == 2)
        #expect(r.lines[0].utf8.count == 100)
        #expect(r.lines[1] == "lock b")
        #expect(r.truncated == 1)
        #expect(r.total == 3)
    }

    @Test func prefilterKeepsOnlyShortestLiterals() {
        let p = Prefilter(literals: ["_lock_row", "lock", "Healthy", "lock"])
        #expect(p.literals.map { String(decoding: $0, as: UTF8.self) } == ["lock", "Healthy"])
    }
}
