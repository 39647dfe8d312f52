// Escalations as Alertmanager alerts (docs/semantics.md, "Alertmanager").

import Foundation
import LockwatchTestSupport
import Testing
import LockwatchCore

@Suite struct AlertFeedTests {
    /// Runs a fixture with an alert feed; every batch it handed on, in order.
    static func batches(_ fixture: String, resend: TimeSpan = .seconds(60), extra: String = "") throws -> [[AlertFeed.Postable]] {
        final class Batches: @unchecked Sendable { var all: [[AlertFeed.Postable]] = [] }
        let got = Batches()
        var bytes = try [UInt8](Data(contentsOf: fixturesRoot.appendingPathComponent("\(fixture)/input.log")))
        bytes += Array(extra.utf8)
        let configuration = Configuration()
        let pipeline = Pipeline(configuration: configuration, sink: JSONPrinter(out: MemorySink()))
        pipeline.alertFeed = AlertFeed(thresholds: configuration.thresholds, resendInterval: resend, deliver: { got.all.append($0) })
        _ = pipeline.run(sources: [ChunkedSource(bytes, sizes: [1 << 20], name: fixture)])
        return got.all
    }

    @Test func eachEscalationIsOneAlertAndItsRecoveryResolvesIt() throws {
        let batches = try Self.batches("incident")
        let firing = batches.flatMap { $0 }.filter { $0.endsAt == nil }
        let resolved = batches.flatMap { $0 }.filter { $0.endsAt != nil }
        #expect(firing.map { $0.labels["reason"]! } == ["multi_profile", "stale_lock", "persistent"])
        let persistent = try #require(firing.last)
        #expect(persistent.labels == ["alertname": "EntryLockEscalation", "reason": "persistent",
                                      "profile_id": "8d11c7e2-4b1a-4f0e-9a51-2f6b0c1d9e77", "symbol": "ETH-USD", "severity": "page"])
        #expect(persistent.startsAt == "2026-11-26T14:01:32.000Z")
        #expect(persistent.annotations["since"] == "2026-11-26T14:00:00.000Z")
        #expect(persistent.annotations["holders"] == "worker-1:a6a3a450")
        #expect(persistent.annotations["advice"]?.contains("do not delete lock rows manually") == true)
        // The key's recovery resolves both of its alerts at the recovery's time.
        let ends = Dictionary(uniqueKeysWithValues: resolved.map { ($0.labels["reason"]!, $0.endsAt!) })
        #expect(ends["persistent"] == "2026-11-26T14:01:40.000Z")
        #expect(ends["stale_lock"] == "2026-11-26T14:01:40.000Z")
        #expect(ends["multi_profile"] != nil, "the multi-profile incident ended when one profile was left")
    }

    /// An episode that goes quiet (no failure for the episode gap) resolves its alert at its
    /// last failure plus the gap.
    @Test func aQuietEpisodeResolvesAtItsLastFailurePlusTheGap() throws {
        // The staggered case's last failure, then a line of another key five minutes later.
        let later = #"2026-11-26 14:07:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p-other symbol=BTC-USD"# + "\n"
        let batches = try Self.batches("persistent-91s", extra: later)
        let persistent = batches.flatMap { $0 }.filter { $0.labels["reason"] == "persistent" }
        #expect(persistent.count == 2, "opened, then resolved")
        let last = try #require(persistent.last)
        #expect(last.endsAt != nil)
        #expect(last.startsAt < last.endsAt!)
    }

    /// Two collectors send the same identity for the same escalation: nothing of the collector
    /// is in the labels.
    @Test func twoCollectorsSendTheSameIdentity() throws {
        let a = try Self.batches("incident"), b = try Self.batches("incident")
        #expect(a.flatMap { $0 }.map(\.labels) == b.flatMap { $0 }.map(\.labels))
    }

    @Test func theBodyIsAPIv2() throws {
        let alert = AlertFeed.Postable(labels: ["alertname": "EntryLockEscalation"], annotations: ["summary": "s"],
                                       startsAt: "2026-11-26T14:01:32.000Z", endsAt: nil)
        let json = try JSONSerialization.jsonObject(with: Data(AlertFeed.body([alert]))) as? [[String: Any]]
        #expect(json?.first?["startsAt"] as? String == "2026-11-26T14:01:32.000Z")
        #expect((json?.first?["labels"] as? [String: String])?["alertname"] == "EntryLockEscalation")
        #expect(json?.first?["endsAt"] == nil)
    }
}
