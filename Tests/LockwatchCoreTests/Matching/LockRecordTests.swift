import Testing
@testable import LockwatchCore

/// The lock record's packed values read back as they were set.
@Suite struct LockRecordTests {
    @Test func originsReadBackAndClampAtTheirWidths() {
        var r = LockRecord(kind: .failed, time: EventTime(micros: 1), profile: "p")
        for (input, line) in [(0, 0), (1, 1), (7, 123_456_789), (1 << 24 - 1, 1 << 40 - 1), (300, 5_000_000_000)] {
            r.origin = Origin(input: input, line: line)
            #expect(r.origin == Origin(input: input, line: line))
        }
        // Beyond the widths, the numbers stay at the largest (and never wrap into the other).
        r.origin = Origin(input: 1 << 24, line: 1 << 40)
        #expect(r.origin == Origin(input: 1 << 24 - 1, line: 1 << 40 - 1))
        r.origin = Origin(input: 2, line: -5)
        #expect(r.origin == Origin(input: 2, line: 0))
        // Order follows the origin's.
        var a = r, b = r
        a.origin = Origin(input: 1, line: 1 << 39)
        b.origin = Origin(input: 2, line: 0)
        #expect(a.origin < b.origin && a != b)
    }

    @Test func healthReportsReadBack() {
        let counts: [Int?] = [nil, 0, 3, -1, Int(Int64.max)]
        let flags: [Bool?] = [nil, false, true]
        var r = LockRecord(kind: .health, time: EventTime(micros: 1), profile: "")
        #expect(r.health == nil)
        for c in counts {
            for t in flags {
                for q in flags {
                    let report = HealthReport(lockContentionCount: c, tradingLoopHealthy: t, reconciliationLoopHealthy: q)
                    r.health = report
                    #expect(r.health == report)
                }
            }
        }
        r.health = nil
        #expect(r.health == nil)
        #expect(r == LockRecord(kind: .health, time: EventTime(micros: 1), profile: ""))
        #expect(MemoryLayout<LockRecord>.size == 72)
    }
}
