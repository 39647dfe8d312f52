// Ordering per host, merged across hosts (docs/semantics.md, "Order and merging").

import Testing
@testable import LockwatchCore
import LockwatchTestSupport

@Suite struct HostOrderTests {
    static let start = EventTime(micros: 1_795_701_600_000_000)

    /// One failed record of `host` at `seconds` after the start.
    static func record(_ host: String, _ seconds: Double, line: Int = 0) -> LockRecord {
        LockRecord(kind: .failed, time: start + .seconds(seconds), profile: "prof-A", symbol: "ETH-USD",
                   owner: "worker-1:7f3a", caller: host + ":c", host: host, origin: Origin(input: 0, line: line))
    }

    static func push(_ records: [LockRecord], into order: inout Reorderer) -> [LockRecord] {
        var out: [LockRecord] = []
        for r in records { order.push(r, into: &out) }
        order.flush(into: &out)
        return out
    }

    static func sorted(_ records: [LockRecord]) -> [LockRecord] { records.sorted { $0.precedes($1) } }

    /// Three hosts' records, each host's every 100 s, staggered by 33 s, for ten minutes.
    static func staggered(hosts: [String] = ["worker-2", "worker-3", "worker-4"]) -> [[LockRecord]] {
        hosts.enumerated().map { k, h in
            stride(from: Double(k) * 33.3, to: 600, by: 100).enumerated().map { n, s in record(h, s, line: k * 100 + n) }
        }
    }

    @Test func aFileHoldingHostsOneAfterAnotherGivesTheMergedOrder() {
        let byHost = Self.staggered().flatMap { $0 }
        var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(10), holding: true)
        let out = Self.push(byHost, into: &order)
        #expect(out == Self.sorted(byHost))
        #expect(order.late == 0 && order.lateAfterFlush == 0)
        #expect(order.lagChanges.isEmpty)
    }

    @Test func beyondWhatAFileMayHoldTheReleasePointApplies() {
        let byHost = Self.staggered().flatMap { $0 }
        var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(10), holding: true, maxHeld: 4)
        _ = Self.push(byHost, into: &order)
        #expect(order.overflowed)
        #expect(order.late > 0, "the second host's records come behind the first host's")
    }

    /// Each host's records, one a second for two minutes; the last host's start 30 s earlier
    /// (it is the one that will be behind).
    static func dense(hosts: [String] = ["worker-2", "worker-3", "worker-4"]) -> [[LockRecord]] {
        hosts.enumerated().map { k, h in
            (0..<120).map { n in record(h, Double(n) + Double(k) * 0.3 - (k == hosts.count - 1 ? 30 : 0), line: k * 1000 + n) }
        }
    }

    /// A host whose records arrive 30 s behind the others' holds them back while the bound is
    /// above 30 s: nothing is late, and the order is the merged one.
    @Test func aHostBehindWithinTheBoundHoldsTheOthersBack() {
        let arrival = Self.arrive(Self.dense(), delays: [0, 0, 30])
        var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(45))
        let out = Self.push(arrival, into: &order)
        #expect(out == Self.sorted(arrival))
        #expect(order.late == 0)
        #expect(order.lagChanges.isEmpty)
    }

    /// Beyond the bound, the host behind is reported lagging, only its records are late, and the
    /// other hosts' records keep their merged order.
    @Test func aHostBeyondTheBoundIsReportedAndOnlyItsRecordsAreLate() {
        let hosts = Self.dense()
        let arrival = Self.arrive(hosts, delays: [0, 0, 30])
        var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(10))
        let out = Self.push(arrival, into: &order)
        #expect(order.lagChanges.map { "\($0.host?.string ?? "") \($0.lagging)" } == ["worker-4 true"])
        #expect(order.late >= hosts[2].count - 40, "worker-4's records behind the release point")
        #expect(order.hosts.first { $0.name?.string == "worker-4" }?.late == order.late, "and no one else's")
        let others = out.filter { $0.host != "worker-4" }
        #expect(others == Self.sorted(others))
    }

    /// A host that logs its lock lines seldom but its other lines all along holds the others
    /// back through those lines: the staggered case with one host 30 s behind is exact.
    @Test func otherLinesKeepAQuietHostHoldingTheOthers() {
        let hosts = Self.staggered()
        var events: [(arrives: EventTime, record: LockRecord?, host: String, time: EventTime)] = []
        for (k, rs) in hosts.enumerated() {
            let delay = k == 2 ? 30.0 : 0
            let name = rs[0].host!
            for r in rs { events.append((r.time + .seconds(delay), r, name, r.time)) }
            for s in stride(from: 0.0, to: 600, by: 5) {
                let t = Self.start + .seconds(s + Double(k) * 0.01)
                events.append((t + .seconds(delay), nil, name, t))
            }
        }
        events.sort { $0.arrives < $1.arrives }
        for bound in [45.0, 10.0] {
            var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(bound))
            var out: [LockRecord] = []
            for e in events {
                if let r = e.record { order.push(r, into: &out) } else { order.observe(host: Name(e.host), at: e.time, into: &out) }
            }
            order.flush(into: &out)
            let all = hosts.flatMap { $0 }
            if bound > 30 {
                #expect(out == Self.sorted(all))
                #expect(order.late == 0 && order.lagChanges.isEmpty)
            } else {
                #expect(order.lagChanges.first.map { "\($0.host?.string ?? "") \($0.lagging)" } == "worker-4 true")
                let others = out.filter { $0.host != "worker-4" }
                #expect(others == Self.sorted(others))
            }
        }
    }

    /// Arrival order when each host's entries are delayed by `delays` seconds: by arrival time.
    static func arrive(_ hosts: [[LockRecord]], delays: [Double]) -> [LockRecord] {
        var timed: [(arrives: EventTime, record: LockRecord)] = []
        for (rs, d) in zip(hosts, delays) {
            for r in rs { timed.append((r.time + .seconds(d), r)) }
        }
        timed.sort { a, b in a.arrives != b.arrives ? a.arrives < b.arrives : a.record.precedes(b.record) }
        return timed.map(\.record)
    }

    /// The relation: hosts interleaved at random, each host's records jittered within the
    /// lateness and the hosts within the bound of one another, give the merged order on a live
    /// stream, whatever the arrival.
    @Test func anyArrivalWithinTheBoundsGivesTheMergedOrder() {
        var random = TestRandom()
        for _ in 0..<200 {
            let hostCount = Int.random(in: 1...6, using: &random)
            let lateness = 2.0, bound = 10.0
            var perHost: [[LockRecord]] = []
            for k in 0..<hostCount {
                var t = Double.random(in: 0...3, using: &random)
                var rs: [LockRecord] = []
                for n in 0..<Int.random(in: 1...40, using: &random) {
                    rs.append(Self.record("h\(k)", t, line: k * 1000 + n))
                    t += Double.random(in: 0...1, using: &random)
                }
                perHost.append(rs)
            }
            // Jitter within each host: a record may arrive up to the lateness after later ones.
            let jittered = perHost.map { rs in
                rs.map { ($0.time + .seconds(Double.random(in: 0...lateness, using: &random)), $0) }
                    .sorted { $0.0 < $1.0 }.map(\.1)
            }
            // Interleave: a host goes next at random, as long as no host gets ahead of another
            // by more than the bound less the lateness and the longest gap between records.
            var next = Array(repeating: 0, count: hostCount)
            var arrival: [LockRecord] = []
            while arrival.count < perHost.reduce(0, { $0 + $1.count }) {
                let behind = (0..<hostCount).filter { next[$0] < jittered[$0].count }
                    .min { jittered[$0][next[$0]].time < jittered[$1][next[$1]].time }!
                let floor = jittered[behind][next[behind]].time
                let allowed = (0..<hostCount).filter {
                    next[$0] < jittered[$0].count && jittered[$0][next[$0]].time - floor <= .seconds(bound - lateness - 1.001)
                }
                let k = allowed.randomElement(using: &random)!
                arrival.append(jittered[k][next[k]])
                next[k] += 1
            }
            var order = Reorderer(lateness: .seconds(lateness), hostLag: .seconds(bound))
            // The hosts are known from the start (a host first seen behind the others is late).
            var none: [LockRecord] = []
            for k in 0..<hostCount { order.observe(host: Name("h\(k)"), at: Self.start, into: &none) }
            let out = Self.push(arrival, into: &order)
            #expect(out == Self.sorted(arrival))
            #expect(order.late == 0)
        }
    }

    /// Many hosts whose records share their times (whole seconds), some a second behind their
    /// host's latest (within the lateness), or four (beyond it: handled out of order, at their
    /// host's release key): the hosts' merge breaks ties as the timeline's order does, and a
    /// record that becomes its host's first again takes its place among the hosts. (A debug
    /// build also checks, at every record released, that the merge's first host holds the
    /// first record of all.)
    @Test(arguments: [1.0, 4.0]) func hostsWithEqualTimesMergeInTheTimelinesOrder(back: Double) {
        var random = TestRandom()
        var late = 0
        for _ in 0..<100 {
            let hostCount = Int.random(in: 2...40, using: &random)
            var arrival: [LockRecord] = []
            for n in 0..<Int.random(in: 1...400, using: &random) {
                let k = Int.random(in: 0..<hostCount, using: &random)
                let t = Double(n / 8) - (Int.random(in: 0...3, using: &random) == 0 ? back : 0)
                arrival.append(Self.record("h\(k)", t, line: n))
            }
            var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(1000))
            var none: [LockRecord] = []
            for k in 0..<hostCount { order.observe(host: Name("h\(k)"), at: Self.start - .seconds(5), into: &none) }
            let out = Self.push(arrival, into: &order)
            if back < 2 {
                #expect(out == Self.sorted(arrival))
                #expect(order.late == 0)
            } else {
                #expect(Self.sorted(out) == Self.sorted(arrival))
            }
            late += order.late
        }
        #expect(back < 2 || late > 100, "\(late) late records")
    }

    /// A live input that falls silent releases what every holding host has gone past, and
    /// everything once it has been quiet for the bound.
    @Test func silenceReleasesUpToTheSlowestHostThenAll() {
        var order = Reorderer(lateness: .seconds(2), hostLag: .seconds(10))
        var out: [LockRecord] = []
        order.push(Self.record("a", 0), into: &out)
        order.push(Self.record("b", 5), into: &out)
        order.push(Self.record("a", 8), into: &out)
        #expect(out.map(\.time) == [Self.start], "the release point: b's 5 s less the lateness")
        order.idle(.idle, into: &out)
        #expect(out.map(\.time) == [Self.start, Self.start + .seconds(5)], "host a has gone to 8 s, b to 5 s")
        order.idle(.quiet, into: &out)
        #expect(out.count == 3)
    }

    /// `--state` keeps each host's progress and the place of a record handled out of order.
    @Test func theSavedOrderContinuesAlike() {
        let arrival = Self.arrive(Self.staggered(), delays: [0, 0, 30])
        var whole = Reorderer(lateness: .seconds(2), hostLag: .seconds(10))
        let expected = Self.push(arrival, into: &whole)
        for cut in [1, arrival.count / 2, arrival.count - 1] {
            var first = Reorderer(lateness: .seconds(2), hostLag: .seconds(10))
            var out: [LockRecord] = []
            for r in arrival[..<cut] { first.push(r, into: &out) }
            var second = Reorderer(lateness: .seconds(2), hostLag: .seconds(10))
            second.restore(first.saved)
            for r in arrival[cut...] { second.push(r, into: &out) }
            second.flush(into: &out)
            #expect(out.map(\.time) == expected.map(\.time), "cut at \(cut)")
            #expect(second.late == whole.late)
        }
    }
}
