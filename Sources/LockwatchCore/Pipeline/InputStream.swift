import HeapModule

/// What the input stage hands the consumer next: a lock record, or a moment of the input that
/// the consumer acts on. Everything happens on the consumer's thread, in this order.
enum InputEvent {
    case record(LockRecord)
    /// At a chunk boundary, after the chunk's records: how far one host's lines came
    /// (`HostProgress`).
    case progress(host: Name?, time: EventTime)
    /// Between chunks: every record of the chunks taken so far has been handed on and the
    /// next chunk is not taken yet, so `linesRead` and `cursor` describe exactly what was applied.
    case boundary
    /// Still at the boundary, the next chunk is not ready: the consumer is about to wait for
    /// the workers, and output can go out now.
    case waiting
    /// A live input has gone idle, and again as it stays silent.
    case idle(Silence)
}

/// One input: its reader (used by one worker at a time), the results the workers filed for
/// it, and the consumer's side, which hands on its lock records and its moments
/// (`InputEvent`) in input order.
final class InputStream: @unchecked Sendable {
    // `reading`, `ended`, `issued`, `consumed` and `results` are guarded by the pool's condition;
    // `reader` is used only by the worker that set `reading`; the rest only by the consumer.
    let index: Int
    let reader: ChunkReader
    var reading = false
    var ended = false
    var issued = 0
    var consumed = 0
    var results: [Int: ChunkResult] = [:]

    let pool: ScanPool
    let environment: RunEnvironment
    var counts = Summary.Counts()
    /// The journald cursor of the last line of the chunks taken (kept with `--state` only).
    private(set) var cursor: String?
    /// Lines in the chunks taken.
    var linesRead: Int { lineBase + current.lines }
    private var current = ChunkResult()
    private var position = 0
    private var lineBase = 0
    private var finished = false
    private var reportedNotes = 0
    private var year: SyslogYear
    /// The time of the last timed line of the chunks before the current one.
    private(set) var lastTime: LineTime?
    /// The next of the current chunk's untimed records.
    private var untimedAt = 0
    /// A stream's records with no time, waiting to see whether it carries one (`giveTime`).
    private var waitingUntimed: [LockRecord] = []
    /// Whether this stream was taken for one without times.
    private var withoutTimes = false
    /// Records handed on before the current chunk's next ones, and the idle to report after them.
    private var releasing: [LockRecord] = []
    private var releasingAt = 0
    private var pendingIdle: Silence?
    /// Where the consumer is between two chunks: the progress of the chunk just handed on
    /// (`nextProgress` of it), then the boundary, then the wait — each handed on once.
    private enum Between { case progress, boundary, waiting }
    private var between = Between.progress
    private var nextProgress = 0

    init(index: Int, source: ByteSource, pool: ScanPool, configuration: Configuration, environment: RunEnvironment) {
        self.index = index
        self.pool = pool
        self.reader = ChunkReader(source: source, chunkBytes: configuration.readChunkBytes,
                                  maxLineBytes: configuration.maxLineBytes,
                                  idleMilliseconds: environment.idleFlushMilliseconds,
                                  // A record waiting for its partner waits the pair window, in wall time, on a silent pipe.
                                  holdMilliseconds: Int32(clamping: (configuration.thresholds.pairWindow.micros + 999) / 1000),
                                  // Records held for a host that is behind wait at most --host-lag, in wall time, on a silent pipe.
                                  quietMilliseconds: Int32(clamping: (configuration.thresholds.hostLag.micros + 999) / 1000))
        reader.joinsCRI = configuration.inputFormat == .auto || configuration.inputFormat == .forced(.cri)
        self.environment = environment
        self.year = SyslogYear(initial: configuration.year, timestamps: TimestampParser(zone: configuration.zone),
                               now: environment.now, currentYear: environment.currentYear)
    }

    var name: String { reader.source.name }

    /// The next record or moment of the input, or nil at its end (or when it could not be
    /// read further).
    func next() -> InputEvent? {
        while true {
            // Records a stream without times released (rare): they go on first.
            if !releasing.isEmpty || pendingIdle != nil, let e = nextReleased() { return e }
            if position < current.records.count {
                var r = current.records[position]
                position += 1
                r.origin.line += lineBase
                if untimedAt < current.untimed.count, current.untimed[untimedAt] == position - 1 {
                    untimedAt += 1
                    guard giveTime(&r) else { continue }
                }
                year.finish(&r)
                return .record(r)
            }
            if finished {
                // A stream that ended without ever carrying a time: its records go on with the
                // moments they were read.
                if releaseUntimed() { continue }
                return nil
            }
            switch between {
            case .progress:
                if nextProgress == 0, let t = current.lastTime {
                    setUntimedAside()
                    lastTime = t
                }
                untimedAt = 0
                while nextProgress < current.progress.count {
                    let p = current.progress[nextProgress]
                    nextProgress += 1
                    let t = p.time.stamp.map { year.time(of: $0) } ?? p.time.time
                    if let t { return .progress(host: p.host, time: t) }
                }
                between = .boundary
                return .boundary
            case .boundary:
                between = .waiting
                if !isReady() { return .waiting }
            case .waiting:
                break
            }
            between = .progress
            nextProgress = 0
            let next = take()
            lineBase += current.lines
            current = next
            position = 0
            counts.add(current.counts)
            counts.lines = lineBase + current.lines
            if let c = current.cursor { cursor = c }
            for note in current.notes { nameLine(lineBase + note.line, note.text) }
            if let error = current.error {
                environment.warn(error)
                counts.inputErrors += 1
            }
            if current.end { finished = true; counts.lines = lineBase + current.lines }
            if let silence = current.idle {
                // Silent for the hold without a time: a `-o cat` pipe, whose records go on first.
                if silence >= .settled, releaseUntimed() { pendingIdle = silence } else { return .idle(silence) }
            }
        }
    }

    /// The next of the records `releaseUntimed` handed on; after the last, the idle that
    /// waited behind them is reported.
    private func nextReleased() -> InputEvent? {
        if releasingAt < releasing.count {
            var r = releasing[releasingAt]
            releasingAt += 1
            year.finish(&r)
            return .record(r)
        }
        releasing.removeAll()
        releasingAt = 0
        if let silence = pendingIdle {
            pendingIdle = nil
            return .idle(silence)
        }
        return nil
    }

    /// Hands on the records waiting to see whether their stream carries a time, with the
    /// moments they were read; returns whether there were any. The stream is then taken for
    /// one without times, whose records go on at once.
    private func releaseUntimed() -> Bool {
        guard !waitingUntimed.isEmpty else { return false }
        withoutTimes = true
        counts.timeless += waitingUntimed.count
        releasing = waitingUntimed
        releasingAt = 0
        waitingUntimed.removeAll()
        return true
    }

    /// A time has come: the records that waited for one had no timed line before them, and
    /// are set aside as in a file.
    private func setUntimedAside() {
        guard !waitingUntimed.isEmpty else { return }
        for r in waitingUntimed { setAside(r) }
        waitingUntimed.removeAll()
    }

    private func setAside(_ r: LockRecord) {
        counts.untimed += 1
        counts.matched -= 1
        nameLine(r.origin.line, "a lock record with no time, and no timed line before it; set aside")
    }

    /// How many lines of one input set aside or handled out of order are named on stderr; the
    /// rest are counted in the notes at the end.
    static let namedLines = 5

    /// Names a line of this input (`file:line: why`) on stderr, if fewer than `namedLines`
    /// have been.
    func nameLine(_ line: Int, _ why: String) {
        guard reportedNotes < Self.namedLines else { return }
        reportedNotes += 1
        environment.warn("\(name):\(line): \(why)")
    }

    /// Gives a record with no time of its own, and no timed line before it in its chunk, the
    /// time of the input's last timed line. Returns false when there is none: in a file the
    /// record is set aside and counted (a file's finding must not depend on when it is read);
    /// a stream's record, stamped with the moment it is read, waits to see whether the stream
    /// carries a time at all — until a timed line comes (it is then set aside, as in a file),
    /// the stream is silent for the hold, or `untimedLimit` records wait (a `-o cat` pipe: they
    /// go on with their moments).
    private func giveTime(_ r: inout LockRecord) -> Bool {
        if let t = lastTime {
            r.time = t.time
            r.syslogStamp = t.stamp
            return true
        }
        guard reader.source.isStream else {
            setAside(r)
            return false
        }
        r.time = environment.readClock()
        if withoutTimes {
            counts.timeless += 1
            return true
        }
        waitingUntimed.append(r)
        if waitingUntimed.count >= Self.untimedLimit { _ = releaseUntimed() }
        return false
    }

    /// How many records of a stream may wait to see whether it carries a time.
    static let untimedLimit = 1024

    /// Whether this input's next result is in.
    private func isReady() -> Bool {
        pool.condition.lock()
        defer { pool.condition.unlock() }
        return results[consumed] != nil
    }

    /// Waits for this input's next result in order.
    private func take() -> ChunkResult {
        pool.condition.lock()
        defer { pool.condition.unlock() }
        while results[consumed] == nil { pool.condition.wait() }
        let result = results.removeValue(forKey: consumed)!
        consumed += 1
        pool.condition.broadcast()
        return result
    }

    /// Continues an input read before (`--state`): its lines, counts, cursor and the year of
    /// its syslog times.
    func restore(from state: SavedState) {
        lineBase = state.lines
        counts = state.counts
        counts.lines = state.lines
        cursor = state.cursor
        year.current = state.syslogYear
        year.lastMonth = state.syslogMonth
        lastTime = state.lastTime.map { LineTime(time: EventTime(micros: $0), stamp: state.lastTimeStamp.flatMap(SyslogStamp.init(packed:))) }
    }

    /// The syslog year inference's state.
    var syslogYear: (year: Int?, month: Int) { (year.current, year.lastMonth) }

    /// The year and month of the input's first syslog time, decided before reading (`--year`,
    /// or carried from the older file of a rotated log).
    func startYear(_ y: Int, month: Int) { year.first = (y, month) }

    /// The year of a first syslog time with nothing else to go by (`SyslogYear.firstYear`).
    func firstYear(_ stamp: SyslogStamp) -> Int { year.firstYear(stamp) }
}

/// The journald entries of the last stretch of event time, by their cursor's hash: an entry
/// read again — a restart without `--state`, overlapping `--since` ranges, the same export
/// given twice — counts once (docs/semantics.md, "What collectors send").
///
/// An entry read again has the time it had the first time, so an entry is remembered while
/// the latest time seen is within `window` of it; at most `capacity` are remembered (the
/// oldest go first), so memory stays flat in a pipe that runs for weeks.
struct SeenEntries {
    let window: TimeSpan
    let capacity: Int
    private var seen = IntMap<Int64>()
    private var order = Ring<(time: EventTime, entry: UInt64)>()
    private var latest: EventTime?

    init(window: TimeSpan = .seconds(3600), capacity: Int = 262_144) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// Remembers an entry; false when it was seen before (it is then counted).
    mutating func insert(_ entry: UInt64, at time: EventTime) -> Bool {
        latest = max(latest ?? time, time)
        while let head = order.first, latest! - head.time > window || order.count >= capacity {
            order.removeFirst()
            if seen[head.entry] == head.time.micros { seen[head.entry] = nil }
        }
        if seen[entry] != nil { return false }
        seen[entry] = time.micros
        order.append((time, entry))
        return true
    }
}
