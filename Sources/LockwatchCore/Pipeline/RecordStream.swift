import HeapModule

/// One input's lock records in file order: lines → prefilter → decode → match.
final class RecordStream {
    let index: Int
    let reader: LineReader
    var decoder: RecordDecoder
    let matcher: Matcher
    let environment: RunEnvironment
    var counts = Summary.Counts()
    private var reportedUnparsed = 0
    private var finished = false

    init(index: Int, source: ByteSource, configuration: Configuration, environment: RunEnvironment) {
        self.index = index
        self.reader = LineReader(source: source, prefilter: configuration.prefilter,
                                 maxLineBytes: configuration.maxLineBytes, chunk: configuration.readChunkBytes)
        let timestamps = TimestampParser(zone: configuration.zone)
        self.decoder = RecordDecoder(format: configuration.inputFormat, timestamps: timestamps,
                                     year: configuration.year, fallbackYear: environment.currentYear)
        self.matcher = Matcher(rules: configuration.rules, timestamps: timestamps)
        self.environment = environment
    }

    var name: String { reader.source.name }

    /// The next lock record, or nil at the end of the input (or when it could not be read further).
    func next() -> LockRecord? {
        guard !finished else { return nil }
        do {
            while let line = try reader.next() {
                if let r = record(from: line) { return r }
            }
        } catch {
            environment.warn("\(error)")
            counts.inputErrors += 1
        }
        finished = true
        counts.lines = reader.lines
        counts.truncated = reader.truncatedLines
        return nil
    }

    private func record(from line: RawLine) -> LockRecord? {
        switch decoder.decode(line.bytes) {
        case .failure(let why):
            counts.unparsed += 1
            if reportedUnparsed < 5 {
                environment.warn("\(name):\(line.number): \(why.rawValue); line skipped")
                reportedUnparsed += 1
            }
            return nil
        case .success(let rec):
            switch matcher.match(rec, origin: Origin(input: index, line: line.number)) {
            case .record(var r, let timeless):
                counts.matched += 1
                if timeless {
                    r.time = environment.readClock()
                    counts.timeless += 1
                }
                return r
            case .noProfile:
                counts.noProfile += 1
            case .limitExceeded(let rule):
                if counts.limitExceeded == 0 {
                    environment.warn("\(name):\(line.number): rule \(rule) hit the PCRE2 match limit; line counted as unparsed")
                }
                counts.limitExceeded += 1
                counts.unparsed += 1
            case .none:
                break
            }
            return nil
        }
    }
}

/// Orders records for the correlator: a record is released once the highest event time seen
/// is at least `--max-lateness` past it (the watermark), so arrival order within the lateness
/// does not change the result. Ties keep input and line order.
struct Reorderer {
    struct Item: Comparable {
        var record: LockRecord
        static func < (a: Item, b: Item) -> Bool { (a.record.time, a.record.origin) < (b.record.time, b.record.origin) }
        static func == (a: Item, b: Item) -> Bool { a.record.time == b.record.time && a.record.origin == b.record.origin }
    }

    let lateness: TimeSpan
    private var heap = Heap<Item>()
    private(set) var maxSeen: EventTime?
    /// Records that came later than the lateness allows (handled at once, counted).
    private(set) var late = 0

    init(lateness: TimeSpan) { self.lateness = lateness }

    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ r: LockRecord, into out: inout [LockRecord]) {
        if let m = maxSeen, m - r.time > lateness { late += 1 }
        maxSeen = max(maxSeen ?? r.time, r.time)
        heap.insert(Item(record: r))
        let watermark = maxSeen! - lateness
        while let min = heap.min, min.record.time <= watermark { out.append(heap.removeMin().record) }
    }

    mutating func flush(into out: inout [LockRecord]) {
        while let item = heap.popMin() { out.append(item.record) }
    }
}

/// Merges several inputs into one timeline by event time (not concatenation).
struct Merger {
    struct Head: Comparable {
        var record: LockRecord
        var stream: Int
        static func < (a: Head, b: Head) -> Bool { (a.record.time, a.record.origin) < (b.record.time, b.record.origin) }
        static func == (a: Head, b: Head) -> Bool { a.record.time == b.record.time && a.record.origin == b.record.origin }
    }

    let streams: [RecordStream]
    private var heads = Heap<Head>()
    private var primed = false

    init(streams: [RecordStream]) { self.streams = streams }

    mutating func next() -> LockRecord? {
        if streams.count == 1 { return streams[0].next() }
        if !primed {
            primed = true
            for (k, s) in streams.enumerated() { if let r = s.next() { heads.insert(Head(record: r, stream: k)) } }
        }
        guard let head = heads.popMin() else { return nil }
        if let r = streams[head.stream].next() { heads.insert(Head(record: r, stream: head.stream)) }
        return head.record
    }
}
