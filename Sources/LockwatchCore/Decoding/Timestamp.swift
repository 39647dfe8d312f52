import CScan
import Foundation

/// How to read a timestamp that carries no zone of its own (`--tz`).
public enum ZoneRule: Sendable, Equatable {
    /// A fixed offset east of UTC, in seconds.
    case fixed(seconds: Int)
    /// A named zone (IANA), whose offset depends on the date.
    case named(TimeZone)

    /// UTC, the default.
    public static let utc = ZoneRule.fixed(seconds: 0)

    /// Parses `UTC`, `Z`, `+02:00`, `-0500` or an IANA name such as `Europe/Berlin`.
    public init?(_ text: String) {
        if text == "UTC" || text == "Z" || text == "utc" { self = .utc; return }
        var copy = text
        let offset: Int? = copy.withUTF8 { b in
            TimestampParser.parseOffset(UnsafeRawBufferPointer(b), at: 0).flatMap { $0.end == b.count ? $0.seconds : nil }
        }
        if let offset { self = .fixed(seconds: offset); return }
        guard let zone = TimeZone(identifier: text) else { return nil }
        self = .named(zone)
    }

    /// Converts a wall-clock reading in this zone (as if it were UTC, in seconds) to UTC seconds.
    func utcSeconds(fromLocal local: Int64) -> Int64 {
        switch self {
        case .fixed(let s): return local - Int64(s)
        case .named(let zone):
            let guess = local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local))))
            return local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(guess))))
        }
    }
}

/// A syslog-style timestamp, which has no year: `Nov 26 14:00:00.123456`.
struct SyslogStamp: Equatable, Sendable {
    var month: Int
    var day: Int
    var secondOfDay: Int
    var micros: Int
    /// Where the stamp ended in the line (decoding only; not kept by `packed`).
    var end: Int

    init(month: Int, day: Int, secondOfDay: Int, micros: Int, end: Int) {
        self.month = month; self.day = day; self.secondOfDay = secondOfDay; self.micros = micros; self.end = end
    }

    /// The stamp in one word, never 0: month 4 bits, day 5, second of day 17, microseconds 20.
    var packed: UInt64 {
        UInt64(month) | UInt64(day) << 4 | UInt64(secondOfDay) << 9 | UInt64(micros) << 26 | 1 << 63
    }

    /// A stamp from `packed`; nil for 0.
    init?(packed v: UInt64) {
        guard v != 0 else { return nil }
        self.init(month: Int(v & 0xF), day: Int(v >> 4 & 0x1F), secondOfDay: Int(v >> 9 & 0x1FFFF),
                  micros: Int(v >> 26 & 0xFFFFF), end: 0)
    }
}

/// The last date one thread's timestamps had (`lw_date_cache`), so that the lines of one day
/// convert their date once. Not `Sendable`: the worker that owns it is its only user.
final class DateCache {
    let state: UnsafeMutablePointer<lw_date_cache>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: lw_date_cache())
    }

    deinit { state.deallocate() }
}

/// Parses every timestamp form of docs/semantics.md ("Inputs") from bytes, without Foundation on the hot path.
///
/// RFC 3339 / ISO 8601 with `T` or a space, a fraction after `.` or `,`, zone `Z`, `±hh:mm`,
/// `±hhmm` or none (then the `ZoneRule`); Go's `2006/01/02 15:04:05`; epoch numbers in s, ms,
/// µs or ns told apart by magnitude; and syslog `Mmm dd HH:MM:SS[.ffffff]` (see `SyslogYear`).
public struct TimestampParser: Sendable {
    /// The zone for timestamps without one.
    public var zone: ZoneRule

    public init(zone: ZoneRule = .utc) { self.zone = zone }

    /// Parses a whole field value: an ISO/Go timestamp or an epoch number. `dates`: the
    /// calling thread's cache of the last date read, if it keeps one.
    public func parse(_ b: UnsafeRawBufferPointer) -> EventTime? { parse(b, dates: nil) }

    func parse(_ b: UnsafeRawBufferPointer, dates: DateCache?) -> EventTime? {
        if let iso = parseISO(b, at: 0, dates: dates), iso.end == b.count { return iso.time }
        return TimestampParser.parseEpoch(b)
    }

    /// Parses a `String` (tests, flags and captured groups).
    public func parse(_ text: String) -> EventTime? {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses an ISO 8601 / RFC 3339 or Go-style timestamp starting at `i`; returns where it ended.
    public func parseISO(_ b: UnsafeRawBufferPointer, at i0: Int) -> (time: EventTime, end: Int)? {
        parseISO(b, at: i0, dates: nil)
    }

    /// `parseISO`, the date taken from `dates` when it is the one read last on this thread.
    func parseISO(_ b: UnsafeRawBufferPointer, at i0: Int, dates: DateCache?) -> (time: EventTime, end: Int)? {
        // The common layout in one C call; anything else (Go's slashes, no seconds, a short
        // text) through the general parse below.
        var local: Int64 = 0, fraction: Int32 = 0, length = 0
        if i0 < b.count, let base = b.baseAddress {
            let p = base.assumingMemoryBound(to: UInt8.self) + i0
            let found = if let dates { lw_iso_prefix_cached(dates.state, p, b.count - i0, &local, &fraction, &length) }
                else { lw_iso_prefix(p, b.count - i0, &local, &fraction, &length) }
            if found != 0 { return zoned(b, localSeconds: local, micros: Int(fraction), at: i0 + length) }
        }
        return parseISOGeneral(b, at: i0)
    }

    /// `parseISO` for every layout it takes, a field at a time.
    func parseISOGeneral(_ b: UnsafeRawBufferPointer, at i0: Int) -> (time: EventTime, end: Int)? {
        var i = i0
        guard let year = digits(b, &i, 4) else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "/") else { return nil }
        let sep = b[i]; i += 1
        guard let month = digits(b, &i, 2), i < b.count, b[i] == sep else { return nil }
        i += 1
        guard let day = digits(b, &i, 2), i < b.count else { return nil }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let (sod, micros) = clock(b, &i) else { return nil }
        guard (1...12).contains(month), day >= 1,
              day <= CivilCalendar.daysInMonth(year: Int64(year), month: month) else { return nil }
        let localSeconds = CivilCalendar.days(year: Int64(year), month: month, day: day) * 86_400 + Int64(sod)
        return zoned(b, localSeconds: localSeconds, micros: micros, at: i)
    }

    /// The zone after a timestamp's clock at `i` (`Z`, an offset, or none: `--tz`), applied.
    @inline(__always)
    private func zoned(_ b: UnsafeRawBufferPointer, localSeconds: Int64, micros: Int, at i0: Int) -> (time: EventTime, end: Int) {
        var i = i0
        var utc: Int64
        if i < b.count, b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            utc = localSeconds; i += 1
        } else if let off = TimestampParser.parseOffset(b, at: i) {
            utc = localSeconds - Int64(off.seconds); i = off.end
        } else {
            utc = zone.utcSeconds(fromLocal: localSeconds)
        }
        return (EventTime(micros: utc * 1_000_000 + Int64(micros)), i)
    }

    /// Parses `HH:MM[:SS][(.|,)fraction]`, returning second of day and microseconds.
    private func clock(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> (Int, Int)? {
        guard let h = digits(b, &i, 2), i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        guard let m = digits(b, &i, 2) else { return nil }
        var s = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            guard let sec = digits(b, &i, 2) else { return nil }
            s = sec
        }
        guard h < 24, m < 60, s < 61 else { return nil }
        var micros = 0
        if i + 1 < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ","), isDigit(b[i + 1]) {
            i += 1
            var scale = 100_000
            while i < b.count, isDigit(b[i]) {
                micros += Int(b[i] &- 48) * scale
                scale /= 10
                i += 1
            }
        }
        return (h * 3600 + m * 60 + min(s, 59), micros)
    }

    /// Parses `±hh:mm`, `±hhmm` or `±hh` at `i` (`lw_parse_offset`).
    static func parseOffset(_ b: UnsafeRawBufferPointer, at i0: Int) -> (seconds: Int, end: Int)? {
        guard let base = b.baseAddress else { return nil }
        var seconds: Int64 = 0, end = 0
        guard i0 >= 0, lw_parse_offset(base.assumingMemoryBound(to: UInt8.self), b.count, i0, &seconds, &end) != 0 else {
            return nil
        }
        return (Int(seconds), end)
    }

    /// Parses an epoch number, telling seconds, ms, µs and ns apart by magnitude.
    public static func parseEpoch(_ b: UnsafeRawBufferPointer) -> EventTime? {
        var i = 0
        var whole: Int64 = 0
        var nd = 0
        while i < b.count, isDigit(b[i]), nd < 19 {
            // Nineteen digits can exceed Int64: such a number is no time.
            let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(b[i] &- 48))
            if o1 || o2 { return nil }
            whole = next; i += 1; nd += 1
        }
        guard nd > 0 else { return nil }
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < b.count, isDigit(b[i]) { fraction += Double(b[i] &- 48) * scale; scale /= 10; i += 1 }
        }
        guard i == b.count else { return nil }
        let microsPerUnit: Double
        switch whole {
        case ..<100_000_000_000: microsPerUnit = 1_000_000
        case ..<100_000_000_000_000: microsPerUnit = 1_000
        case ..<100_000_000_000_000_000: microsPerUnit = 1
        default: microsPerUnit = 0.001
        }
        if microsPerUnit >= 1 {
            return EventTime(micros: whole * Int64(microsPerUnit) + Int64((fraction * microsPerUnit).rounded()))
        }
        return EventTime(micros: whole / 1000)
    }

    /// Parses a syslog timestamp `Mmm dd HH:MM:SS[.ffffff]` (day may be space-padded).
    static func parseSyslog(_ b: UnsafeRawBufferPointer, at i0: Int) -> SyslogStamp? {
        guard i0 + 15 <= b.count else { return nil }
        guard let month = monthNumber(b[i0], b[i0 + 1], b[i0 + 2]), b[i0 + 3] == UInt8(ascii: " ") else { return nil }
        var i = i0 + 4
        if b[i] == UInt8(ascii: " ") { i += 1 }
        var day = 0
        var nd = 0
        while i < b.count, isDigit(b[i]), nd < 2 { day = day * 10 + Int(b[i] &- 48); i += 1; nd += 1 }
        guard nd > 0, (1...31).contains(day), i < b.count, b[i] == UInt8(ascii: " ") else { return nil }
        i += 1
        guard let (sod, micros) = TimestampParser().clock(b, &i) else { return nil }
        return SyslogStamp(month: month, day: day, secondOfDay: sod, micros: micros, end: i)
    }

    private static func monthNumber(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        switch (a, b | 0x20, c | 0x20) {
        case (0x4A, 0x61, 0x6E): return 1   // Jan
        case (0x46, 0x65, 0x62): return 2   // Feb
        case (0x4D, 0x61, 0x72): return 3   // Mar
        case (0x41, 0x70, 0x72): return 4   // Apr
        case (0x4D, 0x61, 0x79): return 5   // May
        case (0x4A, 0x75, 0x6E): return 6   // Jun
        case (0x4A, 0x75, 0x6C): return 7   // Jul
        case (0x41, 0x75, 0x67): return 8   // Aug
        case (0x53, 0x65, 0x70): return 9   // Sep
        case (0x4F, 0x63, 0x74): return 10  // Oct
        case (0x4E, 0x6F, 0x76): return 11  // Nov
        case (0x44, 0x65, 0x63): return 12  // Dec
        default: return nil
        }
    }

    func syslogTime(_ s: SyslogStamp, year: Int) -> EventTime? {
        guard s.day <= CivilCalendar.daysInMonth(year: Int64(year), month: s.month) else { return nil }
        let local = CivilCalendar.days(year: Int64(year), month: s.month, day: s.day) * 86_400 + Int64(s.secondOfDay)
        return EventTime(micros: zone.utcSeconds(fromLocal: local) * 1_000_000 + Int64(s.micros))
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

@inline(__always) func digits(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ n: Int) -> Int? {
    guard i + n <= b.count else { return nil }
    var v = 0
    for k in 0..<n {
        let c = b[i + k]
        guard isDigit(c) else { return nil }
        v = v * 10 + Int(c &- 48)
    }
    i += n
    return v
}
