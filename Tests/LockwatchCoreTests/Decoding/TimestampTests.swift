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

    @Test func syslogYearIsInferredAndRollsOver() {
        var y = SyslogYear(fixed: nil)
        #expect(y.year(for: 12, fallback: { 2025 }) == 2025)
        #expect(y.year(for: 1, fallback: { 2025 }) == 2026)
        var fixed = SyslogYear(fixed: 2020)
        #expect(fixed.year(for: 1, fallback: { 2025 }) == 2020)
        var seen = SyslogYear(fixed: nil)
        seen.observe(fullTime: EventTime(micros: base))
        #expect(seen.year(for: 11, fallback: { 1999 }) == 2026)
    }

    @Test func formatsRFC3339WithMilliseconds() {
        #expect(EventTime(micros: base + 123_999).rfc3339 == "2026-11-26T14:00:00.123Z")
        #expect(EventTime(micros: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(TimeSpan.seconds(90.5).description == "90.5")
        #expect(TimeSpan.seconds(91).description == "91")
        #expect(TimeSpan(micros: 1_234_567).description == "1.235")
    }
}
