// Reporting: the Prometheus metrics of docs/semantics.md ("Metrics"), named as the runbook names them.

import Prometheus

/// The metrics of a run, in a swift-prometheus registry.
///
/// Fed on the pipeline's correlating thread only; the registry itself is thread-safe, so an
/// exposition (the metrics file, a scrape) may read it from any thread at any time.
public final class LockMetrics: @unchecked Sendable {
    // Everything below `registry` is touched by the correlating thread only.
    public let registry = PrometheusCollectorRegistry()
    /// Keys with series of their own at most (`--metrics-max-series`); beyond, a key's series
    /// are dropped and counted.
    public let maxSeries: Int
    private var contention: [LockKey: Counter] = [:]
    private var dropped: Set<LockKey> = []
    private let seriesDropped: Counter
    private let latencyFailed: ValueHistogram
    private let latencyAcquired: ValueHistogram
    private let skipped: Counter
    private var escalations: [EscalationReason: Counter] = [:]
    private let openEpisodes: Gauge
    private let oldestEpisodeAge: Gauge
    private var holders: [HolderSeries: Gauge] = [:]
    private var lastFailure: [LockKey: Gauge] = [:]
    private var hostLags: [String: Gauge] = [:]
    private let linesRead: Counter, linesMatched: Counter, linesUnparsed: Counter
    private var reported = Summary.Counts()

    private struct HolderSeries: Hashable {
        var key: LockKey
        var owner: Name
    }

    /// A metric's name and help; the unit is part of the name, as the runbook writes them.
    private static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Lock call latencies, in seconds.
    static let latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init(maxSeries: Int = 10_000) {
        self.maxSeries = maxSeries
        let r = registry
        seriesDropped = r.makeCounter(descriptor: Self.describe("lockwatch_series_dropped_total", "Lock keys left without series of their own by --metrics-max-series"))
        latencyFailed = r.makeValueHistogram(descriptor: Self.describe("lock_acquisition_latency_seconds", "Latency of fn_try_acquire_entry_lock_row, from the logs' latency fields"), labels: [("result", "failed")],
                                             buckets: Self.latencyBuckets)
        latencyAcquired = r.makeValueHistogram(descriptor: Self.describe("lock_acquisition_latency_seconds", "Latency of fn_try_acquire_entry_lock_row, from the logs' latency fields"), labels: [("result", "acquired")],
                                               buckets: Self.latencyBuckets)
        skipped = r.makeCounter(descriptor: Self.describe("lockwatch_skipped_signals_total", "ENTRY signals the trading loop skipped"))
        for reason in EscalationReason.allCases {
            escalations[reason] = r.makeCounter(descriptor: Self.describe("lockwatch_escalations_total", "Escalations of the runbook, by reason"), labels: [("reason", reason.rawValue)])
        }
        openEpisodes = r.makeGauge(descriptor: Self.describe("lockwatch_open_episodes", "Contention episodes open now"))
        oldestEpisodeAge = r.makeGauge(descriptor: Self.describe("lockwatch_oldest_open_episode_age_seconds", "Event time since the oldest open episode's first failure"))
        linesRead = r.makeCounter(descriptor: Self.describe("lockwatch_lines_read_total", "Lines read"))
        linesMatched = r.makeCounter(descriptor: Self.describe("lockwatch_lines_matched_total", "Lock records recognised"))
        linesUnparsed = r.makeCounter(descriptor: Self.describe("lockwatch_lines_unparsed_total", "Lock-like lines that could not be decoded"))
    }

    /// A record as it leaves ordering: its latency, and its key's series from first sight.
    func record(_ r: LockRecord) {
        if let latency = r.latency, latency.isFinite, latency >= 0 {
            if r.kind == .failed { latencyFailed.record(latency) } else if r.kind == .acquired { latencyAcquired.record(latency) }
        }
        if r.kind != .health { _ = counter(for: LockKey(profile: r.profileName, symbol: r.symbolName ?? Name.empty)) }
    }

    /// One failed attempt.
    func attempt(_ a: Attempt) {
        if a.skipped { skipped.increment() }
        guard let c = counter(for: a.key) else { return }
        c.increment()
        setLastFailure(a.key, a.time)
    }

    /// The latest failure times set, so that a failure handled out of order never moves a
    /// key's gauge back.
    private var lastFailureTimes: [LockKey: EventTime] = [:]

    private func setLastFailure(_ key: LockKey, _ t: EventTime) {
        if let seen = lastFailureTimes[key], seen >= t { return }
        lastFailureTimes[key] = t
        lastFailureGauge(for: key).set(Double(t.micros) / 1e6)
    }

    /// The key's last failure time (event time, seconds since the epoch): what a fleet-wide
    /// rule over every host's lockwatch needs to see one lock row's contention whole.
    private func lastFailureGauge(for key: LockKey) -> Gauge {
        if let g = lastFailure[key] { return g }
        let g = registry.makeGauge(descriptor: Self.describe("entry_lock_last_failure_timestamp_seconds", "Event time of the key's latest failed attempt"),
                                   labels: [("profile_id", key.profile), ("symbol", key.symbol)])
        lastFailure[key] = g
        return g
    }

    /// The delivery counters of one Alertmanager (`--alertmanager`): batches sent, and dropped
    /// (refused, beyond the queue's bound, or left at the end). Safe to use from any thread.
    public struct DeliveryCounters: Sendable {
        let sentCounter: Counter
        let droppedCounter: Counter
        public func sent() { sentCounter.increment() }
        public func dropped(_ n: Int = 1) { if n > 0 { droppedCounter.increment(by: Int64(n)) } }
    }

    public func alertmanagerCounters(_ url: String) -> DeliveryCounters {
        DeliveryCounters(
            sentCounter: registry.makeCounter(descriptor: Self.describe("lockwatch_alertmanager_batches_sent_total", "Batches of alerts an Alertmanager took"),
                                              labels: [("alertmanager", url)]),
            droppedCounter: registry.makeCounter(descriptor: Self.describe("lockwatch_alertmanager_batches_dropped_total", "Batches of alerts that could not be delivered to an Alertmanager"),
                                                 labels: [("alertmanager", url)]))
    }

    /// How far a lagging host's lines trail the leading host's; 0 once it has caught up.
    func hostLag(_ host: String, lagging: Bool, behind: TimeSpan) {
        if hostLags[host] == nil, hostLags.count >= maxSeries { return }
        let g = hostLags[host] ?? registry.makeGauge(descriptor: Self.describe("lockwatch_host_lag_seconds", "How far a lagging host's records trail the leading host's (0: it holds the others back)"),
                                                     labels: [("host", host)])
        hostLags[host] = g
        g.set(lagging ? behind.seconds : 0)
    }

    /// A warning that skipped a signal joined an attempt counted before it.
    func joinedSkip() { skipped.increment() }

    /// The events the correlator decided.
    func alert(_ alert: Alert) {
        if case .escalation(let e) = alert { escalations[e.reason]?.increment() }
    }

    /// Continues the counters of a run whose state was saved (`--state`): each key's failures,
    /// the skipped signals and the escalations by reason. Histograms start afresh, as
    /// Prometheus expects of a restarted process.
    func restore(from correlator: Correlator, escalations saved: [EscalationReason: Int]) {
        var skippedSignals = 0
        for k in correlator.keyTotals() {
            counter(for: k.key)?.increment(by: Int64(k.failures))
            skippedSignals += k.skipped
            if let last = k.lastFailure, contention[k.key] != nil { setLastFailure(k.key, last) }
        }
        skipped.increment(by: Int64(skippedSignals))
        for (reason, n) in saved { escalations[reason]?.increment(by: Int64(n)) }
    }

    /// Brings the gauges and line counters up to date: open episodes, the oldest one's age at
    /// `now`, and which holder blocks which open episode.
    func refresh(from correlator: Correlator, counts: Summary.Counts, now: EventTime?) {
        var open = 0
        var oldest: EventTime?
        var current: Set<HolderSeries> = []
        for ep in correlator.openEpisodeSnapshots() {
            open += 1
            oldest = min(oldest ?? ep.start, ep.start)
            guard contention[ep.key] != nil else { continue }
            for o in ep.owners { current.insert(HolderSeries(key: ep.key, owner: o)) }
        }
        openEpisodes.set(Double(open))
        oldestEpisodeAge.set(now.flatMap { n in oldest.map { (n - $0).seconds } } ?? 0.0)
        for (series, gauge) in holders where !current.contains(series) {
            registry.unregisterGauge(gauge)
            holders[series] = nil
        }
        for series in current where holders[series] == nil {
            let g = registry.makeGauge(descriptor: Self.describe("entry_lock_holder_info", "1 while this owner blocks an open episode of this key"),
                                       labels: [("profile_id", series.key.profile), ("symbol", series.key.symbol),
                                                ("owner", series.owner.string)])
            g.set(1.0)
            holders[series] = g
        }
        linesRead.increment(by: Int64(max(0, counts.lines - reported.lines)))
        linesMatched.increment(by: Int64(max(0, counts.matched - reported.matched)))
        linesUnparsed.increment(by: Int64(max(0, counts.unparsed - reported.unparsed)))
        reported = counts
    }

    /// The exposition in Prometheus's text format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    /// The key's contention counter, made at 0 on first sight so that `increase()` sees its
    /// first failure; nil when the cap dropped it.
    private func counter(for key: LockKey) -> Counter? {
        if let c = contention[key] { return c }
        guard contention.count < maxSeries else {
            if dropped.count < maxSeries * 10, dropped.insert(key).inserted { seriesDropped.increment() }
            return nil
        }
        let c = registry.makeCounter(descriptor: Self.describe("entry_lock_contention_total", "Failed attempts to take the ENTRY lock"),
                                     labels: [("profile_id", key.profile), ("symbol", key.symbol)])
        contention[key] = c
        return c
    }
}
