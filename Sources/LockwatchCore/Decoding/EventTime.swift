import CScan

/// A point in event time: microseconds since the Unix epoch, UTC.
///
/// Everything lockwatch decides runs on this clock, never on the wall clock, so that a live
/// pipe, a batch run and a replay of the same lines give the same answers.
public struct EventTime: Comparable, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var micros: Int64

    public init(micros: Int64) { self.micros = micros }
    public init(seconds: Double) { self.micros = Int64((seconds * 1_000_000).rounded()) }

    public static func < (a: EventTime, b: EventTime) -> Bool { a.micros < b.micros }
    public static func + (a: EventTime, d: TimeSpan) -> EventTime { EventTime(micros: a.micros + d.micros) }
    public static func - (a: EventTime, d: TimeSpan) -> EventTime { EventTime(micros: a.micros - d.micros) }
    public static func - (a: EventTime, b: EventTime) -> TimeSpan { TimeSpan(micros: a.micros - b.micros) }

    /// RFC 3339 in UTC with exactly three fractional digits, e.g. `2026-11-26T14:00:00.000Z`.
    public var description: String { rfc3339 }
}

/// A span of event time in microseconds; negative spans are allowed.
public struct TimeSpan: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var micros: Int64
    public init(micros: Int64) { self.micros = micros }
    public static func seconds(_ s: Double) -> TimeSpan { TimeSpan(micros: Int64((s * 1_000_000).rounded())) }
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.micros < b.micros }
    public static func * (a: TimeSpan, k: Int) -> TimeSpan { TimeSpan(micros: a.micros * Int64(k)) }
    public static let zero = TimeSpan(micros: 0)

    /// Seconds, rounded to milliseconds, as the shortest decimal: `90`, `0.5`, `12.345`.
    public var description: String { TimeSpan.secondsText(micros) }

    /// The value in seconds, rounded to milliseconds.
    public var seconds: Double { Double(TimeSpan.roundedMillis(micros)) / 1000 }

    static func roundedMillis(_ micros: Int64) -> Int64 {
        micros >= 0 ? (micros + 500) / 1000 : -((-micros + 500) / 1000)
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's algorithms), free of Foundation.
enum CivilCalendar {
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        lw_days_from_civil(year, Int32(month), Int32(day))
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
