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
    /// Lines read that were joined to the line before them (CRI partial lines).
    var joined = 0
}

/// What the reader hands on next.
enum ReadOutcome: Sendable {
    case chunk(Chunk)
    /// A live input has been silent for a while (`Silence` says how long).
    case idle(Silence)
    case end
}

/// How long a live input has been silent, in the stages the stages downstream act on.
public enum Silence: Int, Comparable, Sendable {
    /// For the idle time (milliseconds): what ordering holds for the hosts that have caught up may go.
    case idle
    /// For the hold time after that (the pair window): what waits for a partner may go too.
    case settled
    /// For `--host-lag` of wall time: every host is silent, and nothing is held back for any
    /// (reported again every second while the silence lasts).
    case quiet

    public static func < (a: Silence, b: Silence) -> Bool { a.rawValue < b.rawValue }
}

/// Cuts one byte source into chunks of whole lines. Sequential: one caller at a time.
///
/// The unfinished last line of a read is carried to the front of the next chunk (ripgrep's
/// `LineBuffer::roll`). A file is read until a chunk is full; a live pipe hands on whatever
/// complete lines it has as soon as no more bytes are waiting, so no line that is complete
/// is ever held back by a chunk that is not full. A line longer than `maxLineBytes` is cut:
/// its prefix goes on as a line of its own, the rest is skipped up to its newline.
///
/// Between two calls of `next`, the reader's state is:
/// - `tail`: the bytes read but not yet handed on — an unfinished last line, or a CRI partial
///   line whose last part has not come. They are copied to the front of the next chunk, so a
///   chunk always starts at a line start. Never longer than `maxLineBytes`.
/// - `discarding`: the line being read was cut at `maxLineBytes`; bytes are dropped up to its
///   newline, and `tail` is empty meanwhile.
/// - `eof`: the source gave 0 bytes (or a stop was requested); what is in `tail` goes on as
///   the last chunk, then `.end` for ever.
/// - `idleReported`, `settledReported`, `quietReports`: which silences of a live input were
///   reported since its last byte (each at most once, quiet once a second); any byte read
///   resets all three, and `idleSince` is when the first was reported.
/// - `startChecked`, `criLines`, `criLinesExamined`: what is decided once about the input
///   (its byte-order mark, whether it is CRI).
/// - `pendingError`: a read failed after whole lines had been read; it is thrown by the next
///   call, once those lines have gone on.
final class ChunkReader {
    let source: ByteSource
    /// A file is read until a chunk holds this many bytes (a stream hands on less).
    let chunkBytes: Int
    /// The longest line handed on whole; longer lines are cut (`Chunk.cut`).
    let maxLineBytes: Int
    /// For streams: report `.idle` once the source has been silent this long.
    let idleMilliseconds: Int32?
    /// For streams: report `.idle(.settled)` once it has been silent this much longer.
    let holdMilliseconds: Int32?
    /// For streams: report `.idle(.quiet)` once it has been silent this long in all (after
    /// `.settled`), and again every second after that.
    let quietMilliseconds: Int32?
    /// Bytes read that the next chunk starts with (see the type's account of its state).
    private var tail: [UInt8] = []
    /// Dropping the rest of a line cut at `maxLineBytes`, up to its newline.
    private var discarding = false
    /// Whether `.idle(.idle)` and `.idle(.settled)` were reported in this silence.
    private var idleReported = false
    private var settledReported = false
    /// `.idle(.quiet)` reports made in this silence.
    private var quietReports = 0
    /// Whether the start of the input was looked at (for a byte-order mark).
    private var startChecked = false
    /// Whether this input is CRI, whose partial lines are joined; nil until it is known.
    private var criLines: Bool?
    /// Lines that are not blank looked at so far to decide `criLines`.
    private var criLinesExamined = 0
    /// Whether CRI partial lines may be joined (`--input-format` auto or cri).
    var joinsCRI = true
    /// A live input has been silent for the hold: partial lines still open go on unjoined.
    private var partialsDue = false
    /// A read failed after whole lines had been read: reported once they have gone on.
    private var pendingError: Error?
    /// When the idle was reported (monotonic nanoseconds).
    private var idleSince: UInt64 = 0
    /// The source has ended (or a stop was requested): no more reads.
    private var eof = false
    /// Where the bytes read are counted, for a progress display.
    var progress: ReadProgress?
    /// The source position already counted into `progress`.
    private var counted = 0

    init(source: ByteSource, chunkBytes: Int, maxLineBytes: Int, idleMilliseconds: Int32?, holdMilliseconds: Int32? = nil,
         quietMilliseconds: Int32? = nil) {
        self.source = source
        self.chunkBytes = max(16, chunkBytes)
        self.maxLineBytes = max(1, maxLineBytes)
        self.idleMilliseconds = source.isStream ? idleMilliseconds : nil
        self.holdMilliseconds = source.isStream && idleMilliseconds != nil ? holdMilliseconds : nil
        self.quietMilliseconds = self.holdMilliseconds != nil ? quietMilliseconds : nil
    }

    /// The buffer size a scanner worker needs for this reader's chunks.
    var bufferCapacity: Int { chunkBytes + maxLineBytes + 1 }

    /// Reads the next chunk into `buffer` (of at least `bufferCapacity` bytes).
    func next(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadOutcome {
        if let e = pendingError {
            pendingError = nil
            throw e
        }
        var end = tail.count
        if end > 0 { tail.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: end) } }
        tail.removeAll(keepingCapacity: true)
        while true {
            let lastNewline = findLast(buffer, end)
            // (A newline among the first bytes: no mark can start the input.)
            if !startChecked, end >= 3 || eof || (end > 0 && memchr(buffer.baseAddress!, 0x0A, end) != nil) {
                skipByteOrderMark(buffer, &end)
                continue
            }
            if eof {
                guard end > 0 else { return .end }
                var chunk = Chunk(count: end, unterminated: lastNewline != end - 1, cut: false)
                if joinsPartials(buffer, end) {
                    let r = CRIPartials.join(buffer, end, final: true)
                    chunk.count = r.count
                    chunk.joined = r.joined
                    chunk.unterminated = r.count > 0 && buffer[r.count - 1] != 0x0A
                }
                return .chunk(chunk)
            }
            if let nl = lastNewline, end >= chunkBytes || (source.isStream && !source.hasData(within: 0)),
               let chunk = wholeLines(buffer, nl + 1, end) {
                return .chunk(chunk)
            }
            if lastNewline == nil && end >= maxLineBytes {
                discarding = true
                return .chunk(Chunk(count: maxLineBytes, unterminated: true, cut: true))
            }
            if let idle = idleMilliseconds, !idleReported, !source.hasData(within: idle) {
                idleReported = true
                idleSince = monotonicNanoseconds()
                keepTail(buffer, from: 0, to: end)
                return .idle(.idle)
            }
            // SIGINT or SIGTERM: stop reading; what was read still goes on, as at the end of input.
            if StopSignal.received != 0 { eof = true; discarding = false; continue }
            // A stream is waited for in slices, so that a stop request is seen while it is silent.
            if source.isStream {
                var slice: Int32 = 100
                if let hold = holdMilliseconds, idleReported, !settledReported {
                    let left = Int64(hold) - Int64((monotonicNanoseconds() &- idleSince) / 1_000_000)
                    if left <= 0 {
                        if criLines == true, !partialsDue, findLast(buffer, end) != nil {
                            // Partial lines wait no longer: they go on before the settled idle.
                            partialsDue = true
                            continue
                        }
                        settledReported = true
                        keepTail(buffer, from: 0, to: end)
                        return .idle(.settled)
                    }
                    slice = Int32(min(Int64(slice), left))
                } else if let quiet = quietMilliseconds, settledReported {
                    // Reported once the silence reaches `quiet`, then every second while it lasts
                    // (what runs on wall time downstream — Alertmanager's re-sends — goes on).
                    let due = Int64(quiet) + Int64(quietReports) * 1000
                    let left = due - Int64((monotonicNanoseconds() &- idleSince) / 1_000_000)
                    if left <= 0 {
                        quietReports += 1
                        keepTail(buffer, from: 0, to: end)
                        return .idle(.quiet)
                    }
                    slice = Int32(min(Int64(slice), left))
                }
                if !source.hasData(within: slice) { continue }
            }
            let room = UnsafeMutableRawBufferPointer(rebasing: buffer[end..<bufferCapacity])
            var n: Int
            do {
                n = try source.read(into: room)
            } catch {
                // A read that fails (truncated gzip data) after whole lines were read: those
                // lines go on first, and the failure is reported at the next call.
                guard let nl = findLast(buffer, end) else { throw error }
                pendingError = error
                return .chunk(Chunk(count: nl + 1, unterminated: false, cut: false))
            }
            if let progress {
                let p = source.position
                progress.consume(p - counted)
                counted = p
            }
            if n == 0 { eof = true; discarding = false; continue }
            idleReported = false
            settledReported = false
            quietReports = 0
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

    /// The chunk of the whole lines `[0, count)` of the `end` bytes read, CRI partial lines
    /// joined; what follows them is kept for the next chunk, and so is a partial line whose
    /// last part has not come (unless the pipe has been silent for the hold). nil when the
    /// lines are nothing but such a partial line and the buffer has room to read on; a partial
    /// line as long as the buffer goes on as it is.
    private func wholeLines(_ buffer: UnsafeMutableRawBufferPointer, _ count: Int, _ end: Int) -> Chunk? {
        var chunk = Chunk(count: count, unterminated: false, cut: false)
        if joinsPartials(buffer, end) {
            let r = CRIPartials.join(buffer, count, final: partialsDue)
            partialsDue = false
            if r.carry != nil, r.count == 0 {
                if end < bufferCapacity - 1 { return nil }
            } else {
                if let carry = r.carry { keepTail(buffer, from: carry, to: count) }
                chunk.count = r.count
                chunk.joined = r.joined
            }
        }
        keepTail(buffer, from: count, to: end)
        return chunk
    }

    /// Drops a UTF-8 byte-order mark at the start of the input (once, when the first bytes
    /// are in).
    private func skipByteOrderMark(_ buffer: UnsafeMutableRawBufferPointer, _ end: inout Int) {
        startChecked = true
        guard end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF else { return }
        memmove(buffer.baseAddress!, buffer.baseAddress! + 3, end - 3)
        end -= 3
    }

    /// Whether this input's CRI partial lines are joined, with `--input-format` auto or cri:
    /// decided by its first lines that are not blank (a CRI log is CRI throughout; a blank line
    /// or a header before it does not hide it) — CRI when one of the first 16 is.
    private func joinsPartials(_ buffer: UnsafeMutableRawBufferPointer, _ end: Int) -> Bool {
        if let criLines { return criLines }
        guard joinsCRI else { criLines = false; return false }
        let b = UnsafeRawBufferPointer(buffer)
        var start = 0
        while start < end, criLinesExamined < 16 {
            guard let nl = memchr(buffer.baseAddress! + start, 0x0A, end - start) else { break }
            let e = UnsafeRawPointer(nl) - UnsafeRawPointer(buffer.baseAddress!)
            if e > start, !(e == start + 1 && b[start] == 0x0D) {
                if CRIPartials.tag(b, start, e) != nil { criLines = true; return true }
                criLinesExamined += 1
            }
            start = e + 1
        }
        if criLinesExamined >= 16 { criLines = false }
        return false
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
        return (before + (chunk.unterminated ? 1 : 0) + chunk.joined, cut)
    }
}

/// Kubernetes CRI partial lines: a line longer than the runtime's buffer is written as `P`
/// lines followed by a final `F` line, each with its own time and stream. They are joined
/// before decoding — one line, with the first part's time, stream and an `F` tag — so that a
/// lock line split across them is seen whole (docs/semantics.md, "What collectors send").
enum CRIPartials {
    /// The offset of the tag (`P` or `F`) of a CRI line `[start, end)` — `<RFC 3339 time>
    /// stdout|stderr P|F …` — and its stream (`o` or `e`), or nil when the line is not one.
    static func tag(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (at: Int, stream: UInt8)? {
        guard end - start > 20, b[start] &- 48 < 10, b[start + 10] == UInt8(ascii: "T") else { return nil }
        var i = start + 19
        let limit = min(end, start + 40)
        while i < limit, b[i] != 0x20 { i += 1 }
        guard let t = streamTag(UnsafeRawBufferPointer(rebasing: b[..<end]), i + 1) else { return nil }
        return (i + 8, t.stream)
    }

    /// `stdout F ` / `stderr P ` (or the tag ending the line) at `i`: the stream's letter (`o`,
    /// `e`), the tag, and where the app line starts. The one definition of the CRI prefix, for
    /// the decoder too (`RecordDecoder`).
    static func streamTag(_ b: UnsafeRawBufferPointer, _ i: Int) -> (stream: UInt8, tag: UInt8, app: Int)? {
        guard i + 8 <= b.count else { return nil }
        let s = UnsafeRawBufferPointer(rebasing: b[i..<(i + 7)])
        guard s.elementsEqual("stdout ".utf8) || s.elementsEqual("stderr ".utf8) else { return nil }
        let tag = b[i + 7]
        guard tag == UInt8(ascii: "F") || tag == UInt8(ascii: "P") else { return nil }
        if i + 8 == b.count { return (b[i + 3], tag, b.count) }
        return b[i + 8] == 0x20 ? (b[i + 3], tag, i + 9) : nil
    }

    /// Joins the partial lines of `b[0..<count)` in place: the parts of one stream become one
    /// line where their final part was, with the first part's time. Returns the bytes the
    /// chunk now holds, how many lines were joined to another, and — unless `final` — where, in
    /// the bytes as they were, the first partial line whose final part is still to come starts
    /// (the bytes from there, `[carry, count)`, are left as they were).
    static func join(_ buffer: UnsafeMutableRawBufferPointer, _ count: Int, final: Bool) -> (count: Int, joined: Int, carry: Int?) {
        let b = UnsafeRawBufferPointer(buffer)
        let base = buffer.baseAddress!
        func lineEnd(_ from: Int) -> Int {
            guard from < count, let p = memchr(base + from, 0x0A, count - from) else { return count }
            return UnsafeRawPointer(p) - UnsafeRawPointer(base)
        }
        let endsWithNewline = count > 0 && b[count - 1] == 0x0A
        // Most chunks have no partial line: nothing to do.
        var anyPartial = false
        var at = 0
        while at < count, !anyPartial {
            let e = lineEnd(at)
            if let t = tag(b, at, e), b[t.at] == UInt8(ascii: "P") { anyPartial = true }
            at = e + 1
        }
        guard anyPartial else { return (count, 0, nil) }
        // Where the first partial line still open at the end starts, per stream.
        var stop = count
        if !final {
            // Each run of parts, from its first line to its final one (`count` while open); the
            // carry starts at the first open run, or earlier where a run would straddle it.
            var openAt: [UInt8: Int] = [:]
            var runs: [(start: Int, end: Int)] = []
            var read = 0
            while read < count {
                let e = lineEnd(read)
                if let t = tag(b, read, e) {
                    if b[t.at] == UInt8(ascii: "P") {
                        if openAt[t.stream] == nil { openAt[t.stream] = read }
                    } else if let start = openAt.removeValue(forKey: t.stream) {
                        runs.append((start, read))
                    }
                }
                read = e + 1
            }
            runs += openAt.values.map { ($0, count) }
            stop = openAt.values.min() ?? count
            var moved = true
            while moved {
                moved = false
                for r in runs where r.start < stop && r.end >= stop {
                    stop = r.start
                    moved = true
                }
            }
        }
        // Per stream: the first part's text up to its tag (an `F` in its place), and the parts so far.
        var parts: [UInt8: (head: [UInt8], text: [UInt8])] = [:]
        var read = 0, write = 0, joined = 0
        func emit(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { (base + write).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            write += bytes.count
        }
        while read < stop {
            let e = lineEnd(read)
            let next = min(e + 1, count)
            if let t = tag(b, read, e) {
                let text = UnsafeRawBufferPointer(rebasing: b[min(t.at + 2, e)..<e])
                if b[t.at] == UInt8(ascii: "P") {
                    if parts[t.stream] != nil {
                        parts[t.stream]!.text.append(contentsOf: text)
                        joined += 1
                    } else {
                        parts[t.stream] = (Array(b[read..<t.at]) + [UInt8(ascii: "F"), 0x20], Array(text))
                    }
                    read = next
                    continue
                }
                if let p = parts.removeValue(forKey: t.stream) {
                    // The final part: the whole line goes where it is, the parts before it first.
                    let n = e - (t.at + 2 > e ? e : t.at + 2)
                    let from = min(t.at + 2, e)
                    emit(p.head)
                    emit(p.text)
                    memmove(base + write, base + from, n)
                    write += n
                    if e < count { buffer[write] = 0x0A; write += 1 }
                    joined += 1
                    read = next
                    continue
                }
            }
            if write != read { memmove(base + write, base + read, next - read) }
            write += next - read
            read = next
        }
        // Parts whose final part never came (the end of the input): each as one line.
        for stream in parts.keys.sorted() {
            let p = parts[stream]!
            emit(p.head)
            emit(p.text)
            if endsWithNewline || stop < count { buffer[write] = 0x0A; write += 1 }
        }
        return (write, joined, stop < count ? stop : nil)
    }
}
