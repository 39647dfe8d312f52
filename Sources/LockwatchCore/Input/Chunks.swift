#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CScan

/// A chunk of whole lines at the start of a worker's buffer, handed from the reader to a scanner.
struct Chunk: Sendable {
    /// Bytes in the buffer, `[0, count)`.
    var count: Int
    /// The last line has no newline: the end of input, or a line cut at the length cap.
    var unterminated: Bool
    /// The last line was cut at `maxLineBytes` (the rest of it is skipped).
    var cut: Bool
}

/// What the reader hands on next.
enum ReadOutcome: Sendable {
    case chunk(Chunk)
    /// A live input has been silent for the idle time: what is held downstream may go; or
    /// (`settled`) silent for the hold time after that: what waits for a partner may go too.
    case idle(settled: Bool)
    case end
}

/// Cuts one byte source into chunks of whole lines. Sequential: one caller at a time.
///
/// The unfinished last line of a read is carried to the front of the next chunk (ripgrep's
/// `LineBuffer::roll`). A file is read until a chunk is full; a live pipe hands on whatever
/// complete lines it has as soon as no more bytes are waiting, so no line that is complete
/// is ever held back by a chunk that is not full. A line longer than `maxLineBytes` is cut:
/// its prefix goes on as a line of its own, the rest is skipped up to its newline.
final class ChunkReader {
    let source: ByteSource
    let chunkBytes: Int
    let maxLineBytes: Int
    /// For streams: report `.idle` once the source has been silent this long.
    let idleMilliseconds: Int32?
    /// For streams: report `.idle(settled: true)` once it has been silent this much longer.
    let holdMilliseconds: Int32?
    private var tail: [UInt8] = []
    private var discarding = false
    private var idleReported = false
    private var settledReported = false
    /// When the idle was reported (monotonic nanoseconds).
    private var idleSince: UInt64 = 0
    private var eof = false
    /// Where the bytes read are counted, for a progress display.
    var progress: ReadProgress?
    private var counted = 0

    init(source: ByteSource, chunkBytes: Int, maxLineBytes: Int, idleMilliseconds: Int32?, holdMilliseconds: Int32? = nil) {
        self.source = source
        self.chunkBytes = max(16, chunkBytes)
        self.maxLineBytes = max(1, maxLineBytes)
        self.idleMilliseconds = source.isStream ? idleMilliseconds : nil
        self.holdMilliseconds = source.isStream && idleMilliseconds != nil ? holdMilliseconds : nil
    }

    /// The buffer size a scanner worker needs for this reader's chunks.
    var bufferCapacity: Int { chunkBytes + maxLineBytes + 1 }

    /// Reads the next chunk into `buffer` (of at least `bufferCapacity` bytes).
    func next(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadOutcome {
        var end = tail.count
        if end > 0 { tail.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: end) } }
        tail.removeAll(keepingCapacity: true)
        while true {
            let lastNewline = findLast(buffer, end)
            if eof {
                guard end > 0 else { return .end }
                return .chunk(Chunk(count: end, unterminated: lastNewline != end - 1, cut: false))
            }
            if let nl = lastNewline, end >= chunkBytes || (source.isStream && !source.hasData(within: 0)) {
                keepTail(buffer, from: nl + 1, to: end)
                return .chunk(Chunk(count: nl + 1, unterminated: false, cut: false))
            }
            if lastNewline == nil && end >= maxLineBytes {
                discarding = true
                return .chunk(Chunk(count: maxLineBytes, unterminated: true, cut: true))
            }
            if let idle = idleMilliseconds, !idleReported, !source.hasData(within: idle) {
                idleReported = true
                idleSince = monotonicNanoseconds()
                keepTail(buffer, from: 0, to: end)
                return .idle(settled: false)
            }
            // SIGINT or SIGTERM: stop reading; what was read still goes on, as at the end of input.
            if StopSignal.received != 0 { eof = true; discarding = false; continue }
            // A stream is waited for in slices, so that a stop request is seen while it is silent.
            if source.isStream {
                var slice: Int32 = 100
                if let hold = holdMilliseconds, idleReported, !settledReported {
                    let left = Int64(hold) - Int64((monotonicNanoseconds() &- idleSince) / 1_000_000)
                    if left <= 0 {
                        settledReported = true
                        keepTail(buffer, from: 0, to: end)
                        return .idle(settled: true)
                    }
                    slice = Int32(min(Int64(slice), left))
                }
                if !source.hasData(within: slice) { continue }
            }
            let room = UnsafeMutableRawBufferPointer(rebasing: buffer[end..<bufferCapacity])
            var n = try source.read(into: room)
            if let progress {
                let p = source.position
                progress.consume(p - counted)
                counted = p
            }
            if n == 0 { eof = true; discarding = false; continue }
            idleReported = false
            settledReported = false
            if discarding {
                guard let p = memchr(room.baseAddress!, 0x0A, n) else { continue }
                let skip = UnsafeRawPointer(p) - UnsafeRawPointer(room.baseAddress!) + 1
                discarding = false
                n -= skip
                if n > 0 { memmove(room.baseAddress!, room.baseAddress! + skip, n) }
            }
            end += n
        }
    }

    private func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private func keepTail(_ buffer: UnsafeMutableRawBufferPointer, from: Int, to: Int) {
        if to > from { tail.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[from..<to])) }
    }

    private func findLast(_ buffer: UnsafeMutableRawBufferPointer, _ end: Int) -> Int? {
        guard end > 0, let p = lw_memrchr(buffer.baseAddress!, 0x0A, end) else { return nil }
        return UnsafeRawPointer(p) - UnsafeRawPointer(buffer.baseAddress!)
    }
}

/// Finds the candidate lines of a chunk and counts all of its lines. Pure: safe on any thread.
struct ChunkScanner: Sendable {
    let prefilter: Prefilter
    let maxLineBytes: Int

    /// Calls `visit(line, number, hit)` for each line the prefilter admits (cut to
    /// `maxLineBytes`), numbered from 1 within the chunk, with the offset in the line at which
    /// the prefilter found a literal (`Prefilter.firstHit`; -1 when the cut line ends before
    /// it); returns the number of lines in the chunk and how many were cut.
    func scan(_ bytes: UnsafeRawBufferPointer, _ chunk: Chunk,
              _ visit: (UnsafeRawBufferPointer, Int, Int) -> Void) -> (lines: Int, cut: Int) {
        let n = chunk.count
        let base = bytes.baseAddress!
        var pos = 0
        // Newlines in [0, pos): the prefilter counts the ones it passes over.
        var before = 0
        var cut = chunk.cut ? 1 : 0
        while pos < n {
            var skipped = 0
            let hit = prefilter.firstHit(in: UnsafeRawBufferPointer(rebasing: bytes[pos..<n]), newlinesBefore: &skipped)
            before += skipped
            guard let hit else { break }
            let h = pos + hit
            var start = pos
            if h > pos, let p = lw_memrchr(base + pos, 0x0A, h - pos) { start = UnsafeRawPointer(p) - base + 1 }
            var stop = n
            if let p = memchr(base + h, 0x0A, n - h) { stop = UnsafeRawPointer(p) - base }
            var e = stop
            if e > start, bytes[e - 1] == 0x0D { e -= 1 }
            if e - start > maxLineBytes { e = start + maxLineBytes; cut += 1 }
            visit(UnsafeRawBufferPointer(rebasing: bytes[start..<e]), before + 1, h < e ? h - start : -1)
            if stop < n { before += 1 }
            pos = stop + 1
        }
        return (before + (chunk.unterminated ? 1 : 0), cut)
    }
}
