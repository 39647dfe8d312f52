#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBytes

/// The cheap first test: a line can be a lock line only if it contains one of these literals.
///
/// Most lines of a worker's log are not lock lines; they are skipped by `memmem` over the
/// whole buffer without being split, decoded or matched (STYLE habit 3, as ripgrep does).
public struct Prefilter: Sendable {
    /// The literals; empty means every line is a candidate.
    public let literals: [[UInt8]]

    /// Keeps only literals that no shorter literal is part of (a line with `_lock_row` has `lock`).
    public init(literals: [String]) {
        let unique = Array(Set(literals.filter { !$0.isEmpty })).sorted { ($0.utf8.count, $0) < ($1.utf8.count, $1) }
        var kept: [String] = []
        for l in unique where !kept.contains(where: { l.contains($0) }) { kept.append(l) }
        self.literals = kept.map { Array($0.utf8) }
    }

    /// A prefilter that lets every line through (a rule without literals).
    public static let everything = Prefilter(literals: [])

    /// Whether a single line passes (used for the final line and for tests).
    public func admits(_ line: UnsafeRawBufferPointer) -> Bool {
        if literals.isEmpty { return true }
        return literals.contains { lit in
            lit.withUnsafeBytes { lw_memmem(line.baseAddress, line.count, $0.baseAddress, $0.count) != nil }
        }
    }
}

/// One line handed downstream: its bytes (valid until the next call) and its 1-based number.
public struct RawLine {
    public var bytes: UnsafeRawBufferPointer
    public var number: Int
    /// Whether the line was cut at `--max-line-bytes`.
    public var truncated: Bool
}

/// Splits a byte source into lines and yields only the prefilter's candidates.
///
/// One buffer, filled with large reads; newlines are found with `memchr`; the unfinished tail
/// is moved to the front before the next fill (ripgrep's `LineBuffer::roll`). Every complete
/// line in the buffer is handed on before the next read, so a live pipe never waits for a
/// chunk to fill. `\r\n` is handled, a final line without newline counts, and a line longer
/// than `maxLineBytes` is cut: its prefix is analysed, the rest skipped and counted.
public final class LineReader {
    public let source: ByteSource
    let prefilter: Prefilter
    let maxLineBytes: Int
    let chunk: Int
    private var storage: UnsafeMutableRawBufferPointer
    private var pos = 0
    private var end = 0
    private var eof = false
    private var discarding = false
    /// Per literal: no occurrence starts in [pos, known[k]); `isHit[k]` says whether one starts at known[k].
    private var known: [Int]
    private var isHit: [Bool]

    /// Lines seen so far, candidates or not.
    public private(set) var lines = 0
    /// Lines cut at `maxLineBytes`.
    public private(set) var truncatedLines = 0

    public init(source: ByteSource, prefilter: Prefilter, maxLineBytes: Int = 1 << 20, chunk: Int = 256 << 10) {
        self.source = source
        self.prefilter = prefilter
        self.maxLineBytes = max(1, maxLineBytes)
        self.chunk = max(16, chunk)
        self.storage = .allocate(byteCount: self.chunk * 2, alignment: 16)
        self.known = Array(repeating: 0, count: prefilter.literals.count)
        self.isHit = Array(repeating: false, count: prefilter.literals.count)
    }

    deinit { storage.deallocate() }

    /// The next candidate line, or nil at end of input.
    public func next() throws -> RawLine? {
        while true {
            if discarding {
                if let nl = find(0x0A, pos, end) { pos = nl + 1; discarding = false } else { pos = end }
            }
            if !discarding {
                if let line = scan() { return line }
            }
            if eof { return finalLine() }
            if pos == 0 && end == storage.count, let line = overflow() { return line }
            try fill()
        }
    }

    /// Finds the next complete candidate line in the buffer, counting the lines it passes.
    private func scan() -> RawLine? {
        guard pos < end else { return nil }
        if let h = firstHit() {
            var ls = h
            while ls > pos, storage[ls - 1] != 0x0A { ls -= 1 }
            lines += countNewlines(pos, ls)
            pos = ls
            guard let nl = find(0x0A, h, end) else { return nil }
            pos = nl + 1
            lines += 1
            return makeLine(ls, nl)
        }
        if let lastNL = findLast(0x0A, pos, end) {
            lines += countNewlines(pos, lastNL + 1)
            pos = lastNL + 1
        }
        return nil
    }

    private func makeLine(_ start: Int, _ stop: Int) -> RawLine {
        var e = stop
        if e > start, storage[e - 1] == 0x0D { e -= 1 }
        var truncated = false
        if e - start > maxLineBytes {
            e = start + maxLineBytes
            truncated = true
            truncatedLines += 1
        }
        return RawLine(bytes: UnsafeRawBufferPointer(rebasing: storage[start..<e]), number: lines, truncated: truncated)
    }

    private func finalLine() -> RawLine? {
        guard pos < end, !discarding else { return nil }
        let start = pos
        pos = end
        lines += 1
        let line = makeLine(start, end)
        return prefilter.admits(line.bytes) ? line : nil
    }

    /// The buffer holds one unfinished line: grow up to the cap, or cut the line there.
    private func overflow() -> RawLine? {
        if storage.count < maxLineBytes + chunk {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(storage.count * 2, maxLineBytes + chunk),
                                                                alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<end]))
            storage.deallocate()
            storage = bigger
            return nil
        }
        lines += 1
        discarding = true
        pos = end
        resetHits()
        let line = makeLine(0, end)
        return prefilter.admits(line.bytes) ? line : nil
    }

    private func fill() throws {
        if pos > 0 {
            let keep = end - pos
            if keep > 0 { memmove(storage.baseAddress!, storage.baseAddress! + pos, keep) }
            for k in known.indices {
                if known[k] < pos { known[k] = 0; isHit[k] = false } else { known[k] -= pos }
            }
            end = keep
            pos = 0
        }
        let space = UnsafeMutableRawBufferPointer(rebasing: storage[end..<storage.count])
        let n = try source.read(into: space)
        if n == 0 { eof = true } else { end += n }
    }

    private func resetHits() {
        for k in known.indices { known[k] = pos; isHit[k] = false }
    }

    /// The smallest offset ≥ pos at which some literal starts, searching only what is unknown.
    private func firstHit() -> Int? {
        if prefilter.literals.isEmpty { return pos }
        var best: Int? = nil
        for k in prefilter.literals.indices {
            if known[k] < pos { known[k] = pos; isHit[k] = false }
            if !isHit[k] {
                let lit = prefilter.literals[k]
                let from = known[k]
                let found: Int? = from < end ? lit.withUnsafeBytes { l in
                    lw_memmem(storage.baseAddress! + from, end - from, l.baseAddress, l.count)
                        .map { UnsafeRawPointer($0) - UnsafeRawPointer(storage.baseAddress!) }
                } : nil
                if let found { known[k] = found; isHit[k] = true } else { known[k] = max(from, end - lit.count + 1) }
            }
            if isHit[k], best.map({ known[k] < $0 }) ?? true { best = known[k] }
        }
        return best
    }

    private func find(_ byte: UInt8, _ from: Int, _ to: Int) -> Int? {
        guard from < to, let p = memchr(storage.baseAddress! + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(p) - UnsafeRawPointer(storage.baseAddress!)
    }

    private func findLast(_ byte: UInt8, _ from: Int, _ to: Int) -> Int? {
        guard from < to, let p = lw_memrchr(storage.baseAddress! + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(p) - UnsafeRawPointer(storage.baseAddress!)
    }

    /// Counts `\n` bytes in [from, to), eight bytes at a time.
    private func countNewlines(_ from: Int, _ to: Int) -> Int {
        guard from < to else { return 0 }
        var count = 0
        var i = from
        let base = UnsafeRawPointer(storage.baseAddress!)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let pattern = ones &* 0x0A
        while i + 8 <= to {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            // A byte of x is zero exactly where the input byte was a newline.
            let t = ((x & ~highs) &+ ~highs | x) & highs
            count += 8 - t.nonzeroBitCount
            i += 8
        }
        while i < to { if base.load(fromByteOffset: i, as: UInt8.self) == 0x0A { count += 1 }; i += 1 }
        return count
    }
}
