import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// The text output of a batch run leads with what mattered (docs/semantics.md, "Text output").
@Suite struct SummaryOrderTests {
    static func fail(_ second: Int, _ profile: String, owner: String = "w1:aa") -> String {
        String(format: "2026-11-26 14:%02d:%02d,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false ", second / 60, second % 60)
            + "profile_id=\(profile) symbol=ETH-USD owner_token=\(owner) caller_token=w9:zz\n"
    }

    static func taken(_ second: Int, _ profile: String) -> String {
        String(format: "2026-11-26 14:%02d:%02d,000 INFO entry_lock: fn_try_acquire_entry_lock_row returned true ", second / 60, second % 60)
            + "profile_id=\(profile) symbol=ETH-USD owner_token=w9:zz caller_token=w9:zz\n"
    }

    /// `long` blocked 100 s (persistent), `open` still failing at the end, `mid` recovered
    /// after 40 s (longer than the 30 s TTL), and twenty transient profiles that recovered
    /// within a second, all held by one owner.
    static let log: String = {
        var lines: [(Int, String)] = []
        for s in stride(from: 0, through: 100, by: 10) { lines.append((s, fail(s, "long", owner: "w1:held"))) }
        lines.append((105, taken(105, "long")))
        for s in stride(from: 300, through: 340, by: 10) { lines.append((s, fail(s, "open"))) }
        lines.append((120, fail(120, "mid"))); lines.append((160, fail(160, "mid"))); lines.append((161, taken(161, "mid")))
        for k in 0..<20 {
            let s = 200 + k * 4
            lines.append((s, fail(s, "t\(k)", owner: "w1:held")))
            lines.append((s + 1, taken(s + 1, "t\(k)")))
        }
        return lines.sorted { $0.0 < $1.0 }.map(\.1).joined()
    }()

    func text(events: TextEvents, limit: Int?) -> String {
        let out = MemorySink()
        let printer = TextPrinter(out: out, color: false, ttl: .seconds(30), events: events, limit: limit)
        _ = Pipeline(configuration: Configuration(), sink: printer).run(sources: [MemorySource(Array(Self.log.utf8), name: "log")])
        return out.text
    }

    @Test func keysComeEscalatedThenOpenThenLongestAndTheRestAsTotals() {
        let t = text(events: .notable, limit: 3)
        let keys = t.split(separator: "\n").filter { $0.hasPrefix("    profile ") }.map { $0.split(separator: " ")[1] }
        #expect(keys == ["long", "open", "mid"])
        #expect(t.contains("    20 more keys in 20 profiles with transient contention: 20 failures, none longer than 1s (--summary full lists them)"))
        // Escalations and the advice come before the keys.
        let escalations = t.range(of: "  escalations: 1 (persistent 1)")!, keysAt = t.range(of: "  keys with contention: 23 in 23 profiles")!
        #expect(escalations.lowerBound < keysAt.lowerBound && t.range(of: "  runbook advice:")!.lowerBound < keysAt.lowerBound)
        #expect(t.contains("    w1:held: 21 keys, 31 failures, 2026-11-26T14:00:00.000Z to 2026-11-26T14:04:36.000Z, held a key up to 100s"))
    }

    @Test func notableEventsLeaveTransientOnesToTheSummary() {
        let all = text(events: .all, limit: nil), notable = text(events: .notable, limit: nil)
        #expect(all.components(separatedBy: "contention started").count - 1 == 23)
        #expect(!notable.contains("contention started"))
        // Of the recoveries, only the persistent key's and the one longer than a TTL are lines.
        let recovered = notable.split(separator: "\n").filter { $0.contains(" recovered profile=") }
        #expect(recovered.map { $0.split(separator: " ")[2] } == ["profile=long", "profile=mid"])
        #expect(notable.contains("not printed above: 23 contention starts, 20 recoveries within one TTL (--events all prints them)"))
        #expect(!all.contains("not printed above"))
        // The full summary lists every key.
        #expect(notable.split(separator: "\n").filter { $0.hasPrefix("    profile ") }.count == 23)
    }

    /// A multi_profile escalation repeats only one that shares a profile with the last listed:
    /// a chain (a,b) → (b,c) → (c,d) lists the first and the third.
    @Test func repeatedEscalationsShareAProfileWithTheLastListed() {
        func multi(_ second: Int64, _ profiles: [String]) -> Escalation {
            Escalation(at: EventTime(micros: second * 1_000_000), reason: .multiProfile, key: nil, profiles: profiles,
                       since: EventTime(micros: 0), failures: 2, owners: [])
        }
        let chain = [multi(10, ["a", "b"]), multi(12, ["b", "c"]), multi(14, ["c", "d"]), multi(13, ["c", "d"]), multi(100, ["c", "d"])]
        #expect(Escalation.repeated(chain, ttl: .seconds(30)) == [false, true, false, true, false])
        #expect(Escalation.listed(chain, ttl: .seconds(30), lasting: ["d"]).map(\.profiles) == [["c", "d"], ["c", "d"], ["a", "b"]])
    }

    /// A holder's longest hold is within one episode: the same owner named in two episodes an
    /// hour apart held the key for seconds, not an hour.
    @Test func aHoldIsMeasuredWithinOneEpisode() {
        let log = Self.fail(0, "p", owner: "w1:x") + Self.fail(5, "p", owner: "w1:x") + Self.taken(6, "p")
            + Self.fail(3000, "p", owner: "w1:x") + Self.taken(3001, "p")
        let out = MemorySink()
        let printer = TextPrinter(out: out, color: false, ttl: .seconds(30), events: .notable, limit: nil)
        _ = Pipeline(configuration: Configuration(), sink: printer).run(sources: [MemorySource(Array(log.utf8), name: "log")])
        #expect(out.text.contains("      holder w1:x: 3 failures, 2026-11-26T14:00:00.000Z to 2026-11-26T14:50:00.000Z, held up to 5s\n"))
    }

    /// Under notable, a multi_profile escalation among brief contention only is counted, not
    /// printed; one that names a profile seen to last (here a stuck owner) is printed, before
    /// the line that showed it.
    @Test func multiProfileEscalationsWaitForAProfileThatLasts() {
        let log = Self.fail(0, "b1", owner: "w1:a") + Self.fail(1, "b2", owner: "w2:a") + Self.taken(2, "b1") + Self.taken(3, "b2")
            + (0...4).map { Self.fail(100 + $0 * 10, "stuck", owner: "w3:z") }.joined() + Self.fail(101, "pass", owner: "w4:a")
            + Self.taken(102, "pass") + Self.taken(150, "stuck")
        let out = MemorySink()
        let printer = TextPrinter(out: out, color: false, ttl: .seconds(30), events: .notable, limit: nil)
        _ = Pipeline(configuration: Configuration(), sink: printer).run(sources: [MemorySource(Array(log.utf8), name: "log")])
        let lines = out.text.split(separator: "\n")
        let multi = lines.filter { $0.contains("ESCALATION multi_profile") }
        #expect(multi.count == 1 && multi[0].contains("profiles=pass,stuck"))
        let stuck = lines.firstIndex { $0.contains("owner stuck profile=stuck") }!
        #expect(lines.firstIndex { $0.contains("ESCALATION multi_profile") }! == stuck - 5)   // the line, its advice, then the notice
        #expect(out.text.contains(", 1 multi_profile escalation whose profiles all recovered within one TTL"))
    }
}
