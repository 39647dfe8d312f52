// Reporting: escalations as Alertmanager alerts (API v2, `POST /api/v2/alerts`), so that an
// escalation reaches a person through the routing, silences and deduplication SREs already run
// (docs/semantics.md, "Alertmanager").

import Foundation

/// Turns the run's escalations into Alertmanager alerts and hands batches of them to `deliver`
/// (which posts them to every Alertmanager, with retries).
///
/// - An escalation opens an alert: labels `alertname` (`EntryLockEscalation`), `reason`,
///   `profile_id`, `symbol`, `severity`; annotations with the runbook's advice, the holders,
///   since when and how many failures; `startsAt` its event time.
/// - While its episode is open, the alert is sent again every `resendInterval` of wall time
///   (Alertmanager forgets an alert not re-sent within its `resolve_timeout`, and an
///   Alertmanager that restarted learns it again).
/// - It is resolved (`endsAt`) when its episode recovers (the recovery's time) or goes quiet
///   (its last failure plus the episode gap), and a multi_profile alert when fewer profiles
///   than the threshold are contended.
///
/// The labels carry nothing of the collector itself, so two collectors running the same
/// lockwatch over the same journals send the same alert identity and Alertmanager deduplicates.
public final class AlertFeed {
    /// An alert as API v2 takes it.
    public struct Postable: Codable, Equatable, Sendable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String?

        public init(labels: [String: String], annotations: [String: String], startsAt: String, endsAt: String?) {
            self.labels = labels; self.annotations = annotations; self.startsAt = startsAt; self.endsAt = endsAt
        }
    }

    /// An open alert as `--state` keeps it.
    struct SavedAlert: Codable {
        var alert: Postable
        var profile: String?
        var symbol: String?
        var since: Int64
        var lastFailure: Int64
    }

    private struct Open {
        var alert: Postable
        var key: LockKey?
        var since: EventTime
        var lastFailure: EventTime
    }

    let thresholds: Thresholds
    let resendInterval: TimeSpan
    let deliver: ([Postable]) -> Void
    /// Open alerts, by identity (reason, profile, symbol).
    private var open: [String: Open] = [:]
    private var order: [String] = []
    private var lastResend: EventTime?

    /// Labels every alert carries besides its own (`shard` with `--shard`, so that the shards'
    /// multi_profile alerts stay apart).
    let extraLabels: [String: String]

    public init(thresholds: Thresholds, resendInterval: TimeSpan = .seconds(60), extraLabels: [String: String] = [:],
                deliver: @escaping ([Postable]) -> Void) {
        self.thresholds = thresholds
        self.resendInterval = resendInterval
        self.extraLabels = extraLabels
        self.deliver = deliver
    }

    /// Alerts open now (for tests and the state of a run).
    public var openCount: Int { open.count }

    static func identity(_ reason: EscalationReason, _ key: LockKey?) -> String {
        "\(reason.rawValue)\u{1F}\(key?.profile ?? "")\u{1F}\(key?.symbol ?? "")"
    }

    /// An event the correlator decided.
    func alert(_ a: Alert) {
        switch a {
        case .escalation(let e):
            let id = Self.identity(e.reason, e.key)
            if let o = open[id] {
                guard o.since != e.since else { return }
                // The key's earlier episode ended (quiet) before this one escalated.
                let gap = thresholds.episodeGap
                resolve(where: { $0.key == e.key && $0.since == o.since }, at: { min(e.since, $0.lastFailure + gap) })
            }
            let alert = postable(e)
            open[id] = Open(alert: alert, key: e.key, since: e.since, lastFailure: e.at)
            order.append(id)
            deliver([alert])
        case .recovered(let at, let key, _, _, _, let escalated):
            guard escalated else { return }
            resolve(where: { $0.key == key }, at: { _ in at })
        default:
            break
        }
    }

    /// Brings the open alerts up to date at event time `now` (wall time `wall`): resolves those
    /// whose episode went quiet or closed, and re-sends the others when the interval has passed.
    func refresh(from correlator: Correlator, now: EventTime, wall: EventTime) {
        reopenContinued(correlator)
        guard !open.isEmpty else { return }
        let gap = thresholds.episodeGap
        for id in order {
            guard var o = open[id], let key = o.key else { continue }
            if let span = correlator.episodeSpan(of: key), span.start == o.since {
                o.lastFailure = span.lastFailure
                open[id] = o
            }
        }
        resolve(where: { o in
            guard let key = o.key else { return correlator.activeProfiles(at: now) < thresholds.multiProfile }
            guard let span = correlator.episodeSpan(of: key), span.start == o.since else { return true }
            return now - span.lastFailure > gap
        }, at: { o in o.key == nil ? now : min(now, o.lastFailure + gap) }, quiet: true)
        if let last = lastResend, wall - last < resendInterval { return }
        lastResend = wall
        let alerts = order.compactMap { open[$0]?.alert }
        if !alerts.isEmpty { deliver(alerts) }
    }

    /// Resolves the open alerts `matches` picks, with the end `end` gives. Those resolved as
    /// `quiet` are remembered while their episode is open in the correlator: a silent live
    /// input's event time runs on with the wall clock, and a backlog that then arrives may
    /// continue the episode.
    private func resolve(where matches: (Open) -> Bool, at end: (Open) -> EventTime, quiet: Bool = false) {
        var resolved: [Postable] = []
        order.removeAll { id in
            guard let o = open[id], matches(o) else { return false }
            var alert = o.alert
            alert.endsAt = max(end(o), o.since).rfc3339
            resolved.append(alert)
            open[id] = nil
            if quiet, o.key != nil { wentQuiet[id] = o }
            return true
        }
        if !resolved.isEmpty { deliver(resolved) }
    }

    /// Alerts resolved as quiet whose episode may yet go on, by identity.
    private var wentQuiet: [String: Open] = [:]

    /// Fires again, with its first `startsAt`, an alert resolved as quiet whose episode went on
    /// (a failure after the one it was resolved at); forgets those whose episode closed.
    private func reopenContinued(_ correlator: Correlator) {
        guard !wentQuiet.isEmpty else { return }
        var again: [Postable] = []
        for (id, o) in wentQuiet {
            guard let key = o.key, let span = correlator.episodeSpan(of: key), span.start == o.since else {
                wentQuiet[id] = nil
                continue
            }
            guard span.lastFailure > o.lastFailure, open[id] == nil else { continue }
            var reopened = o
            reopened.lastFailure = span.lastFailure
            open[id] = reopened
            order.append(id)
            wentQuiet[id] = nil
            again.append(o.alert)
        }
        if !again.isEmpty { deliver(again) }
    }

    /// The alert of an escalation.
    func postable(_ e: Escalation) -> Postable {
        let what: String
        switch e.reason {
        case .persistent: what = "ENTRY lock contention beyond \(thresholds.escalateAfter) TTL cycles"
        case .staleLock: what = "a lock row past its expiry still blocks"
        case .multiProfile: what = "\(e.profiles.count) profiles contended on the ENTRY lock at once"
        }
        let subject = e.key.map { " on \($0.profile)/\($0.symbol)" } ?? ": " + e.profiles.joined(separator: ", ")
        var annotations = [
            "summary": what + subject,
            "advice": runbookAdvice.joined(separator: "; "),
            "since": e.since.rfc3339,
            "failures": String(e.failures),
        ]
        if !e.owners.isEmpty { annotations["holders"] = e.owners.joined(separator: ", ") }
        if e.key == nil { annotations["profiles"] = e.profiles.joined(separator: ", ") }
        let labels = ["alertname": "EntryLockEscalation", "reason": e.reason.rawValue,
                      "profile_id": e.key?.profile ?? "", "symbol": e.key?.symbol ?? "", "severity": "page"]
        return Postable(labels: labels.merging(extraLabels) { own, _ in own },
                        annotations: annotations, startsAt: e.at.rfc3339, endsAt: nil)
    }

    /// The open alerts, for `--state`: a continued run goes on re-sending and resolving them.
    var saved: [SavedAlert] {
        order.compactMap { id in
            open[id].map { SavedAlert(alert: $0.alert, profile: $0.key?.profile, symbol: $0.key?.symbol,
                                      since: $0.since.micros, lastFailure: $0.lastFailure.micros) }
        }
    }

    /// Continues with the alerts a saved run had open.
    func restore(_ saved: [SavedAlert]) {
        for s in saved {
            let key = s.profile.map { LockKey(profile: $0, symbol: s.symbol ?? "") }
            let id = Self.identity(EscalationReason(rawValue: s.alert.labels["reason"] ?? "") ?? .persistent, key)
            guard open[id] == nil else { continue }
            open[id] = Open(alert: s.alert, key: key, since: EventTime(micros: s.since), lastFailure: EventTime(micros: s.lastFailure))
            order.append(id)
        }
    }

    /// A batch as the JSON body of `POST /api/v2/alerts`.
    public static func body(_ alerts: [Postable]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(alerts)) ?? Data("[]".utf8))
    }
}
