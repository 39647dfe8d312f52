// Decoding, finished in input order: the year of syslog times, which carry none.

/// Infers the missing year of syslog timestamps in one input (docs/semantics.md, "Syslog
/// years").
///
/// The input's first syslog time takes `initial` (`--year`, or the year carried from the older
/// file of a rotated log), else the year of the last full timestamp seen in the same input,
/// else what `firstYear` says (the latest year that does not put it in the future). From there
/// the year is carried forward in input order: a month that jumps back by more than six
/// (December to January) moves to the next year.
struct SyslogYear: Sendable {
    var initial: Int?
    let timestamps: TimestampParser
    /// When the run started (wall time), for the year of a first syslog time with nothing else
    /// to go by; nil: `currentYear`.
    let now: EventTime?
    let currentYear: Int
    /// The year and month of the input's first syslog time, looked up before reading (a file):
    /// the first record's year counts on from there, as if every line before it were read.
    var first: (year: Int, month: Int)?
    var current: Int?
    var lastMonth = 0
    /// The day of the last full time observed, with its year and month (computed once a day).
    var observed: (day: Int64, year: Int, month: Int) = (.min, 0, 0)

    init(initial: Int? = nil, timestamps: TimestampParser = TimestampParser(), now: EventTime? = nil,
         currentYear: Int = 1970) {
        self.initial = initial
        self.timestamps = timestamps
        self.now = now
        self.currentYear = currentYear
    }

    /// Gives a record its time in input order: a syslog stamp its year, while a full time
    /// says which year the input is in. Records must come in input order.
    mutating func finish(_ r: inout LockRecord) {
        if let stamp = r.syslogStamp {
            let y = year(for: stamp)
            if let t = timestamps.syslogTime(stamp, year: y) { r.time = t }
        } else {
            observe(fullTime: r.time)
        }
    }

    /// A stamp's time in the year reached so far (a host's progress), without moving it on;
    /// nil before any year is known.
    func time(of stamp: SyslogStamp) -> EventTime? {
        current.flatMap { timestamps.syslogTime(stamp, year: $0) }
    }

    /// The year of a first syslog time with nothing else to go by: the latest that does not put
    /// it after the start of the run, or the current year.
    func firstYear(_ stamp: SyslogStamp) -> Int {
        now.map { Self.latestYear(of: stamp, notAfter: $0, timestamps: timestamps) } ?? currentYear
    }

    mutating func year(for stamp: SyslogStamp) -> Int {
        var y: Int
        if let f = first {
            // `--year` and the rotated files' years are those of the first syslog time, which
            // a full time seen before it does not override.
            first = nil
            y = f.year
            if f.month - stamp.month > 6 { y += 1 }
        } else if let c = current {
            y = c
            if lastMonth - stamp.month > 6 { y += 1 }
        } else {
            y = initial ?? firstYear(stamp)
        }
        current = y
        lastMonth = stamp.month
        return y
    }

    mutating func observe(fullTime t: EventTime) {
        let day = floorDiv(t.micros, 86_400_000_000)
        if day != observed.day {
            let (y, m, _) = CivilCalendar.civil(fromDays: day)
            observed = (day, Int(y), m)
        }
        current = observed.year
        lastMonth = observed.month
    }

    /// The latest year in which `stamp` is not more than a day after `now` (a log read live is
    /// not ahead of the clock: December read in January is last December).
    static func latestYear(of stamp: SyslogStamp, notAfter now: EventTime, timestamps: TimestampParser) -> Int {
        let (nowYear, _, _) = CivilCalendar.civil(fromDays: floorDiv(now.micros, 86_400_000_000))
        for y in [Int(nowYear) + 1, Int(nowYear), Int(nowYear) - 1] {
            if let t = timestamps.syslogTime(stamp, year: y), (t - now).micros <= 86_400_000_000 { return y }
        }
        return Int(nowYear) - 1
    }

    /// The first syslog time among the whole lines of `bytes` (the start of a file), or nil:
    /// none there, or a full time first.
    static func firstStamp(in bytes: UnsafeRawBufferPointer, decoder: RecordDecoder) -> SyslogStamp? {
        var rec = LogRecord()
        // A byte-order mark is not part of the first line (as the reader skips it).
        var start = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            guard end < bytes.count else { return nil }
            defer { start = end + 1 }
            guard decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), into: &rec) == nil else { continue }
            if let stamp = rec.syslogStamp { return stamp }
            if rec.time != nil { return nil }
        }
        return nil
    }
}
