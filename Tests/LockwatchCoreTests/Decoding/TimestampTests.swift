import Foundation
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// 2026-11-26T14:00:00Z in microseconds.
let base: Int64 = 1_795_701_600_000_000

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-26T14:00:00Z", base),
        ("2026-11-26T14:00:00.000Z", base),
        ("2026-11-26 14:00:00,250", base + 250_000),
        ("2026-11-26T14:00:00.123456789Z", base + 123_456),
        ("2026-11-26T16:00:00+02:00", base),
        ("2026-11-26T09:00:00-0500", base),
        ("2026-11-26T14:00:00.5+0000", base + 500_000),
        ("2026/11/26 14:00:00", base),
        ("1795701600", base),
        ("1795701600.25", base + 250_000),
        ("1795701600000", base),
        ("1795701600000000", base),
        ("1795701600000000000", base),
    ])
    func parsesEveryForm(_ text: String, _ micros: Int64) {
        #expect(TimestampParser().parse(text)?.micros == micros)
    }

    @Test(arguments: ["", "2026-13-01T00:00:00Z", "2026-02-30 10:00:00", "14:00:00", "2026-11-26T25:00:00Z", "abc"])
    func rejectsNonTimes(_ text: String) {
        #expect(TimestampParser().parse(text) == nil)
    }

    @Test func zoneRuleAppliesOnlyWithoutAZone() {
        let p = TimestampParser(zone: ZoneRule("+01:00")!)
        #expect(p.parse("2026-11-26T15:00:00")?.micros == base)
        #expect(p.parse("2026-11-26T14:00:00Z")?.micros == base)
        let berlin = TimestampParser(zone: ZoneRule("Europe/Berlin")!)
        #expect(berlin.parse("2026-11-26 15:00:00")?.micros == base)          // CET, +1
        #expect(berlin.parse("2026-07-01 16:00:00")?.micros == 1_782_914_400_000_000) // CEST, +2
    }

    /// Found by fuzzing: an epoch of nineteen nines (a Docker `time` field) overflowed and
    /// crashed the run; such a number is no time.
    @Test func anEpochTooLargeForMicrosecondsIsNoTime() {
        #expect(TimestampParser().parse("9999999999999999999") == nil)
        #expect(TimestampParser().parse("9223372036854775808") == nil)
        #expect(TimestampParser().parse("1795701600000000000")?.micros == 1_795_701_600_000_000)
    }

    @Test func syslogYearIsInferredAndRollsOver() {
        func stamp(_ month: Int, _ day: Int = 1) -> SyslogStamp { SyslogStamp(month: month, day: day, secondOfDay: 0, micros: 0, end: 0) }
        var y = SyslogYear(currentYear: 2025)
        #expect(y.year(for: stamp(12)) == 2025)
        #expect(y.year(for: stamp(1)) == 2026)
        // `--year` is the year of the first line; the log goes on across New Year.
        var given = SyslogYear(initial: 2026, currentYear: 2025)
        #expect(given.year(for: stamp(12, 31)) == 2026)
        #expect(given.year(for: stamp(1, 1)) == 2027)
        var seen = SyslogYear(currentYear: 1999)
        seen.observe(fullTime: EventTime(micros: base))
        #expect(seen.year(for: stamp(11)) == 2026)
        // A run's record: its stamp becomes its time in the year reached.
        var record = LockRecord(kind: .failed, time: EventTime(micros: 0), profile: "p")
        record.syslogStamp = stamp(12, 31)
        seen.finish(&record)
        #expect(record.time.rfc3339 == "2026-12-31T00:00:00.000Z")
        // Read live: never more than a day ahead of now (2026-11-26T14:00:00Z).
        let now = EventTime(micros: base), p = TimestampParser()
        #expect(SyslogYear.latestYear(of: stamp(12, 31), notAfter: now, timestamps: p) == 2025)
        #expect(SyslogYear.latestYear(of: stamp(11, 27), notAfter: now, timestamps: p) == 2026)
        #expect(SyslogYear.latestYear(of: stamp(1, 1), notAfter: now, timestamps: p) == 2026)
        let eve = EventTime(micros: base + 35 * 86_400_000_000)  // 2026-12-31
        #expect(SyslogYear.latestYear(of: stamp(1, 1), notAfter: eve, timestamps: p) == 2027)
    }

    /// Rotated names belong to their log, older the larger the age; each file's first syslog
    /// time takes its year from the older files, whatever order they were named in.
    @Test func rotatedFilesCarryTheYear() {
        #expect(Rotation.member("/var/log/worker.log") == ("/var/log/worker.log", 0))
        #expect(Rotation.member("/var/log/worker.log.2.gz") == ("/var/log/worker.log", 2))
        #expect(Rotation.member("worker.log-20261201.gz").log == "worker.log")
        #expect(Rotation.member("worker.log-20261201").age > Rotation.member("worker.log-20261202").age)
        func stamp(_ month: Int, _ day: Int) -> SyslogStamp { SyslogStamp(month: month, day: day, secondOfDay: 0, micros: 0, end: 0) }
        let paths: [String?] = ["w.log", "w.log.2", "other.log", nil, "w.log.1"]
        let stamps: [SyslogStamp?] = [stamp(1, 2), stamp(12, 20), stamp(5, 1), stamp(1, 1), stamp(12, 30)]
        #expect(Rotation.initialYears(paths: paths, firstStamps: stamps, given: 2026, latest: { _ in 1999 })
                == [2027, 2026, 2026, nil, 2026])
        #expect(Rotation.initialYears(paths: paths, firstStamps: stamps, given: nil, latest: { _ in 2027 })
                == [2027, 2026, nil, nil, 2026])
    }

    /// Times written one after another keep the day's date between them: a run of times
    /// hopping between days, years and centuries (before 1970 too) must each read as the
    /// calendar says, and the seconds of a span as the shortest decimal.
    @Test func timesWrittenInARowKeepTheRightDay() {
        var g = TestRandom()
        var day = RFC3339Day()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var t: Int64 = base
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<4, using: &g) {
            case 0: t += Int64.random(in: 0..<5_000_000, using: &g)
            case 1: t += Int64.random(in: -90_000_000_000...90_000_000_000, using: &g)
            default: t = Int64.random(in: -2_000_000_000_000_000...250_000_000_000_000_000, using: &g)
            }
            // Smaller than a time: each one grows the buffer on the way.
            let out = ByteBuffer(capacity: 16)
            EventTime(micros: t).appendRFC3339(to: out, day: &day)
            let ms = t >= 0 ? t / 1000 : (t - 999) / 1000
            let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(secs)))
            let want = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!,
                              c.second!, Int(ms - secs * 1000))
            #expect(out.string == want, "\(t)")
            if out.string != want { break }
        }
        let seconds = ByteBuffer()
        TimeSpan.appendSeconds(-1_500, to: seconds)
        #expect(seconds.string == "-0.002")
    }

    @Test func formatsRFC3339WithMilliseconds() {
        #expect(EventTime(micros: base + 123_999).rfc3339 == "2026-11-26T14:00:00.123Z")
        #expect(EventTime(micros: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(TimeSpan.seconds(90.5).description == "90.5")
        #expect(TimeSpan.seconds(91).description == "91")
        #expect(TimeSpan(micros: 1_234_567).description == "1.235")
    }

    /// The one-call layout against the field-by-field parse, on texts made near that layout:
    /// valid and invalid dates (leap days, day 31 of short months, hour 24, second 60), every
    /// separator, fractions of any length, zones, and cut short anywhere.
    @Test func theCommonLayoutParsesAsTheGeneralParseDoes() {
        var g = TestRandom()
        let parser = TimestampParser(zone: .fixed(seconds: 3600))
        func two(_ range: ClosedRange<Int>) -> String { String(format: "%02d", Int.random(in: range, using: &g)) }
        for round in 0..<50_000 {
            var t = ["1999", "2000", "2024", "2026", "2100", "0000", "9999", "20x6"].randomElement(using: &g)!
            t += ["-", "-", "-", "/", "."].randomElement(using: &g)! + two(0...13)
            t += ["-", "-", "-", "/"].randomElement(using: &g)! + two(0...32)
            t += ["T", " ", "t", "_"].randomElement(using: &g)! + two(0...24) + [":", ":", "."].randomElement(using: &g)! + two(0...60)
            t += [":", ":", ":", "", "-"].randomElement(using: &g)! + two(0...61)
            t += ["", ".", ",", ".5", ",25", ".123456", ".123456789", ".x"].randomElement(using: &g)!
            t += ["", "Z", "z", "+02:00", "-0530", "+01", " rest"].randomElement(using: &g)!
            if round % 5 == 0 { t = String(t.prefix(Int.random(in: 0...t.count, using: &g))) }
            let start = round % 3
            let text = String(repeating: " ", count: start) + t
            var copy = text
            let (fast, general) = copy.withUTF8 { b in
                let raw = UnsafeRawBufferPointer(b)
                return (parser.parseISO(raw, at: start), parser.parseISOGeneral(raw, at: start))
            }
            let same = fast?.time == general?.time && fast?.end == general?.end
            #expect(same, "\(text.debugDescription): \(String(describing: fast)) against \(String(describing: general))")
            if !same { break }
        }
    }
}
