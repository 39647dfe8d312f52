import CScan
import Foundation

/// The lock records of one chunk, as a worker decided them.
struct ChunkResult: Sendable {
    var records: [LockRecord] = []
    /// Lines in the chunk.
    var lines = 0
    var counts = Summary.Counts()
    /// Messages about single lines, with the line's number within the chunk.
    var notes: [(line: Int, text: String)] = []
    /// A live input fell silent, for as long as this says.
    var idle: Silence?
    var end = false
    var error: String?
    /// The journald cursor of the chunk's last line (with `--state`).
    var cursor: String?
    /// The records (their places in `records`, in order) that had no time of their own and no
    /// timed line before them in the chunk: they take the input's last time before the chunk.
    var untimed: [Int] = []
    /// The time of the chunk's last timed line (any line, lock line or not), if it has one.
    var lastTime: LineTime?
    /// How far each host's lines have come: the hosts and times of the chunk's last few timed
    /// lines, lock lines or not (`HostProgress`).
    var progress: [HostProgress] = []
}

/// A host's line and its time: that host has logged up to there (ordering holds the other
/// hosts' records for it; docs/semantics.md, "Order and merging").
struct HostProgress: Sendable {
    var host: Name?
    var time: LineTime

    /// Lines looked at, from the end of each chunk. A live stream's chunks are what has
    /// arrived, a few lines each, so its hosts are seen as they go; a file's chunks are large,
    /// and the few lines cost nothing there.
    static let linesPerChunk = 8

    /// The hosts and times of the last timed lines of `bytes[..<end]` (at most `linesPerChunk`
    /// lines looked at), latest first.
    static func last(of bytes: UnsafeRawBufferPointer, end: Int, decoder: RecordDecoder, maxLineBytes: Int,
                     scratch: inout LogRecord) -> [HostProgress] {
        guard let base = bytes.baseAddress, end > 0 else { return [] }
        var found: [HostProgress] = []
        var lineEnd = end
        if bytes[lineEnd - 1] == 0x0A { lineEnd -= 1 }
        for _ in 0..<linesPerChunk {
            var start = 0
            if lineEnd > 0, let p = lw_memrchr(base, 0x0A, lineEnd) { start = UnsafeRawPointer(p) - base + 1 }
            var e = lineEnd
            if e > start, bytes[e - 1] == 0x0D { e -= 1 }
            e = min(e, start + maxLineBytes)
            if e > start, decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<e]), into: &scratch) == nil,
               let t = scratch.time {
                let host = scratch.host.map { Name($0) }
                if !found.contains(where: { $0.host == host }) {
                    found.append(HostProgress(host: host, time: LineTime(time: t, stamp: scratch.syslogStamp)))
                }
            }
            if start == 0 { break }
            lineEnd = start - 1
        }
        return found
    }
}

/// The time of a timed line, as a line without a time of its own takes it: the event time, and
/// the syslog stamp whose year is still to be inferred in input order, if it is one.
struct LineTime: Sendable, Equatable {
    var time: EventTime
    var stamp: SyslogStamp?
}

/// Finds the last timed line before a point of one chunk (docs/semantics.md, "Event time"):
/// the lines are decoded backwards from the point, each line of the chunk at most once, since
/// what lies before the last point asked about is remembered.
struct LastTimedLine {
    /// Lines that start before this offset have been looked at.
    private var scannedTo = 0
    private var found: LineTime?

    /// The last timed line that ends at or before `lineEnd` (the offset of the newline ending it,
    /// or the chunk's end for an unterminated last line).
    mutating func before(_ lineEnd: Int, in bytes: UnsafeRawBufferPointer, decoder: RecordDecoder, maxLineBytes: Int,
                         scratch: inout LogRecord) -> LineTime? {
        guard let base = bytes.baseAddress else { return found }
        var end = lineEnd
        var latest: LineTime? = nil
        while latest == nil, end >= scannedTo {
            var start = scannedTo
            if end > scannedTo, let p = lw_memrchr(base + scannedTo, 0x0A, end - scannedTo) {
                start = UnsafeRawPointer(p) - base + 1
            }
            var e = end
            if e > start, bytes[e - 1] == 0x0D { e -= 1 }
            e = min(e, start + maxLineBytes)
            if e > start, decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<e]), into: &scratch) == nil,
               let t = scratch.time {
                latest = LineTime(time: t, stamp: scratch.syslogStamp)
            }
            end = start - 1
        }
        scannedTo = lineEnd + 1
        if let latest { found = latest }
        return found
    }
}

/// Turns chunks into records: prefilter, decode, match. One per worker thread.
final class ChunkWorker {
    let scanner: ChunkScanner
    let decoder: RecordDecoder
    let matcher: Matcher
    /// Whether to find each chunk's last journald cursor (`--state`).
    let keepsCursor: Bool
    /// Whether lines are first tried in place (`PlainLane`,
    /// `Matcher.matchInPlace`): the plain lane.
    let plainLane: Bool
    /// The record each candidate line is decoded into, its storage reused.
    private var scratch = LogRecord()
    /// Records the last chunk gave: the next chunk's array is made that large at once, so that
    /// a storm's records are not copied as the array grows.
    private var lastRecords = 0

    init(configuration: Configuration, environment: RunEnvironment) {
        scanner = ChunkScanner(prefilter: configuration.prefilter, maxLineBytes: configuration.maxLineBytes)
        let timestamps = TimestampParser(zone: configuration.zone)
        // Syslog times keep their stamps: the consumer gives them their year in input order,
        // `--year` being the year of the first (docs/semantics.md, "Syslog years").
        decoder = RecordDecoder(format: configuration.inputFormat, timestamps: timestamps, year: nil,
                                fallbackYear: configuration.year ?? environment.currentYear)
        matcher = Matcher(rules: configuration.rules, timestamps: timestamps, shortcuts: configuration.ruleShortcuts)
        keepsCursor = configuration.stateFile != nil
        plainLane = PlainLane.isUsed(configuration, decoder: decoder, matcher: matcher)
    }

    func process(_ bytes: UnsafeRawBufferPointer, _ chunk: Chunk, input: Int) -> ChunkResult {
        var result = ChunkResult()
        result.records.reserveCapacity(lastRecords + lastRecords / 8)
        defer { lastRecords = result.records.count }
        // A local record, so that each line is decoded and matched in place, not copied.
        var rec = LogRecord()
        swap(&rec, &scratch)
        defer { swap(&rec, &scratch) }
        var timed = LastTimedLine()
        let (lines, cut) = scanner.scan(bytes, chunk) { line, number, hit in
            if record(line, number, hit, input, &rec, &result) {
                // A record with no time of its own takes the last timed line's before it.
                let lineEnd = line.baseAddress! - bytes.baseAddress! - 1
                if let t = timed.before(lineEnd, in: bytes, decoder: decoder, maxLineBytes: scanner.maxLineBytes, scratch: &rec) {
                    result.records[result.records.count - 1].time = t.time
                    result.records[result.records.count - 1].syslogStamp = t.stamp
                } else {
                    result.untimed.append(result.records.count - 1)
                }
            }
        }
        let last = chunk.count > 0 && bytes[chunk.count - 1] == 0x0A ? chunk.count - 1 : chunk.count
        result.lastTime = timed.before(last, in: bytes, decoder: decoder, maxLineBytes: scanner.maxLineBytes, scratch: &rec)
        result.progress = HostProgress.last(of: bytes, end: chunk.count, decoder: decoder, maxLineBytes: scanner.maxLineBytes, scratch: &rec)
        result.lines = lines
        result.counts.truncated = cut
        if keepsCursor { result.cursor = Self.lastCursor(UnsafeRawBufferPointer(rebasing: bytes[..<chunk.count])) }
        return result
    }

    private static let cursorKey = Array(#""__CURSOR":""#.utf8)

    /// The `__CURSOR` of the last line of a chunk of journald JSON (its value never holds a
    /// quote or a backslash), or nil.
    static func lastCursor(_ chunk: UnsafeRawBufferPointer) -> String? {
        var end = chunk.count
        while end > 0, chunk[end - 1] == 10 || chunk[end - 1] == 13 { end -= 1 }
        var start = end
        while start > 0, chunk[start - 1] != 10 { start -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
        let key = cursorKey
        guard line.count > key.count else { return nil }
        var i = 0
        while i + key.count <= line.count {
            if line[i] == key[0], key.indices.allSatisfy({ line[i + $0] == key[$0] }) {
                let from = i + key.count
                var to = from
                while to < line.count, line[to] != 34, line[to] != 92 { to += 1 }
                guard to < line.count, line[to] == 34, to > from else { return nil }
                return String(decoding: UnsafeRawBufferPointer(rebasing: line[from..<to]), as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    /// Decodes and matches one candidate line; returns whether it gave a record with no time.
    private func record(_ line: UnsafeRawBufferPointer, _ number: Int, _ hit: Int, _ input: Int, _ scratch: inout LogRecord,
                        _ result: inout ChunkResult) -> Bool {
        // The plain lane first: the commonest lock line, decoded and read in place.
        if plainLane {
            if let outcome = PlainLane.take(line, hit: hit, decoder: decoder, matcher: matcher,
                                            origin: Origin(input: input, line: number), into: &result.records) {
                return count(outcome, number, &result)
            }
        }
        // A line whose bytes show that no rule can match it (a call, an RPC's access line) is
        // not decoded: it is not a record, whatever its decoding would give.
        guard matcher.mayMatch(line: line) else { return false }
        if let why = decoder.decode(line, into: &scratch, gate: matcher) {
            result.counts.unparsed += 1
            result.notes.append((number, "\(why.rawValue); line skipped"))
            return false
        }
        // No rule can match its text: decoding stopped there.
        if scratch.rejected { return false }
        let timeless = count(matcher.match(&scratch, origin: Origin(input: input, line: number), appendingTo: &result.records),
                             number, &result)
        if timeless, scratch.malformedTime {
            result.counts.malformedTimes += 1
            result.notes.append((number, "its time is not a valid date and time; it takes the last timed line's"))
        }
        return timeless
    }

    /// Counts what a line gave; returns whether it was a record with no time.
    private func count(_ outcome: MatchOutcome, _ number: Int, _ result: inout ChunkResult) -> Bool {
        switch outcome {
        case .record(_, let timeless):
            result.counts.matched += 1
            return timeless
        case .noProfile(let k):
            result.counts.noProfile += 1
            result.notes.append((number, "rule \(matcher.rules[k].name) matched, but the line has no profile id: not a record"))
        case .limitExceeded(let k):
            result.counts.limitExceeded += 1
            result.counts.unparsed += 1
            result.notes.append((number, "rule \(matcher.rules[k].name) hit the PCRE2 match limit; line counted as unparsed"))
        case .none:
            break
        }
        return false
    }
}

/// Worker threads that read and scan the chunks of every input, a few chunks ahead of the
/// consumer, which takes each input's results strictly in order: the records leave in the
/// same order, whatever the number of threads or the size of the reads.
final class ScanPool: @unchecked Sendable {
    // Every mutable field of the pool and of its inputs' shared state is guarded by `condition`.
    let condition = NSCondition()
    private(set) var inputs: [InputStream] = []
    private var stopping = false
    /// Chunks read ahead of the consumer, shared by the inputs.
    let readAhead: Int
    /// Chunks an input may be read ahead of its consumer: its share of `readAhead`, at least 2.
    private(set) var window = 2

    /// A deep read-ahead lets the workers run on while the consumer works through a burst of
    /// events, so that no core stands idle; shared between inputs, so that merging many files
    /// does not multiply the results held.
    init(readAhead: Int = 16) { self.readAhead = readAhead }

    /// Starts `workers` threads over the inputs.
    func start(_ inputs: [InputStream], workers: Int, configuration: Configuration, environment: RunEnvironment) {
        self.inputs = inputs
        window = max(2, readAhead / max(1, inputs.count))
        let capacity = inputs.map(\.reader.bufferCapacity).max() ?? 0
        for _ in 0..<workers {
            let worker = ChunkWorker(configuration: configuration, environment: environment)
            let job = WorkerJob(pool: self, worker: worker, capacity: capacity)
            let thread = Thread { job.run() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Asks the workers to stop after their current chunk, and lets go of the inputs (which
    /// hold the pool in turn).
    func stop() {
        condition.lock()
        stopping = true
        inputs = []
        condition.broadcast()
        condition.unlock()
    }

    /// Under the lock: an input that wants its next chunk read, marked as being read.
    private func claim() -> (InputStream, Int)? {
        for input in inputs where !input.reading && !input.ended && input.issued - input.consumed < window {
            input.reading = true
            defer { input.issued += 1 }
            return (input, input.issued)
        }
        return nil
    }

    fileprivate func work(_ worker: ChunkWorker, _ buffer: UnsafeMutableRawBufferPointer) {
        while true {
            condition.lock()
            var claimed = claim()
            while claimed == nil && !stopping {
                condition.wait()
                claimed = claim()
            }
            guard let (input, sequence) = claimed, !stopping else {
                condition.unlock()
                return
            }
            condition.unlock()

            var result = ChunkResult()
            var chunk: Chunk? = nil
            do {
                switch try input.reader.next(into: buffer) {
                case .chunk(let c): chunk = c
                case .idle(let silence): result.idle = silence
                case .end: result.end = true
                }
            } catch {
                result.error = "\(error)"
                result.end = true
            }
            condition.lock()
            input.reading = false
            if result.end { input.ended = true }
            condition.broadcast()
            condition.unlock()

            if let chunk {
                result = worker.process(UnsafeRawBufferPointer(buffer), chunk, input: input.index)
            }
            condition.lock()
            input.results[sequence] = result
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// One worker thread's loop and buffer.
private final class WorkerJob: @unchecked Sendable {
    // Owned by the single thread that runs it.
    let pool: ScanPool
    let worker: ChunkWorker
    let buffer: UnsafeMutableRawBufferPointer

    init(pool: ScanPool, worker: ChunkWorker, capacity: Int) {
        self.pool = pool
        self.worker = worker
        self.buffer = .allocate(byteCount: max(capacity, 64), alignment: 64)
    }

    deinit { buffer.deallocate() }

    func run() {
        lw_name_thread("lockwatch-scan")
        pool.work(worker, buffer)
    }
}
