import DequeModule

/// The state of a key's latest episode.
public enum EpisodeState: String, Sendable {
    case open, recovered, quiet
}

/// An open contention episode of one key.
struct Episode: Equatable, Sendable {
    var start: EventTime
    var lastFailure: EventTime
    var failures = 0
    var owners: Set<Name> = []
    /// Per owner: when the first failure reporting it happened.
    var ownerSince: [Name: EventTime] = [:]
    /// Owners for which owner_stuck fired.
    var stuckReported: Set<Name> = []
    var fired: Set<EscalationReason> = []
}

/// What lockwatch knows of one holder of one key.
public struct OwnerStats: Equatable, Sendable {
    public var failures = 0
    /// Whether a failure reported this owner as the caller itself.
    public var selfHeld = false
}

/// Everything kept per key: counters for the summary and the open episode, if any.
struct KeyState: Equatable, Sendable {
    var failures = 0
    var skipped = 0
    var episodes = 0
    var escalations = 0
    var escalated = false
    var longest = TimeSpan.zero
    var owners: [Name: OwnerStats] = [:]
    var state = EpisodeState.open
    var episode: Episode?
}

/// The last health values a host reported.
public struct HostHealth: Equatable, Sendable {
    public var lockContentionCount: Int?
    public var tradingLoopHealthy: Bool?
    public var reconciliationLoopHealthy: Bool?
}

/// The episode state machine: `apply` takes one input in event-time order and returns the
/// alerts it decided. It has no side effects and never reads a clock.
public struct Correlator: Sendable {
    public let thresholds: Thresholds
    var keys: [LockKey: KeyState] = [:]
    /// Per profile, its symbols with an open episode and their last failure.
    var openSymbols: [Name: [Name: EventTime]] = [:]
    /// Per profile: the last failure of its open episodes, while within the activity window.
    var activity: [Name: EventTime] = [:]
    var activityQueue: Deque<(time: EventTime, profile: Name)> = []
    /// Whether a multi_profile incident is going on.
    var incident = false
    var hosts: [Name: HostHealth] = [:]
    /// Escalations fired, all reasons.
    public private(set) var escalations = 0

    public init(thresholds: Thresholds) { self.thresholds = thresholds }

    /// Profiles count as active while their last failure is this recent (and their episode open).
    private var activityWindow: TimeSpan { min(thresholds.ttl, thresholds.episodeGap) }

    /// Applies one input and returns the alerts it decided, in order.
    public mutating func apply(_ input: CorrelationInput) -> [Alert] {
        var alerts: [Alert] = []
        apply(input, into: &alerts)
        return alerts
    }

    /// Applies one input and appends the alerts it decided, in order (`alerts` may hold
    /// earlier ones: the pipeline reuses one buffer).
    public mutating func apply(_ input: CorrelationInput, into alerts: inout [Alert]) {
        switch input {
        case .attempt(let a):
            if let host = a.host, hosts[host] == nil { hosts[host] = HostHealth() }
            attempt(a, &alerts)
        case .acquired(let r):
            expireActivity(at: r.time)
            acquired(r, &alerts)
        case .released(let r):
            expireActivity(at: r.time)
        case .health(let r):
            expireActivity(at: r.time)
            health(r, &alerts)
        }
    }

    private mutating func attempt(_ a: Attempt, _ alerts: inout [Alert]) {
        let t = a.time
        let already = alerts.count
        // Taken out of the table while it changes, so that its collections are not copied.
        var ks = keys.removeValue(forKey: a.key) ?? KeyState()
        if let ep = ks.episode, t - ep.lastFailure > thresholds.episodeGap {
            close(&ks, key: a.key, as: .quiet, duration: ep.lastFailure - ep.start, at: t)
        }
        if ks.episode == nil {
            ks.episode = Episode(start: t, lastFailure: t)
            ks.episodes += 1
            ks.state = .open
            alerts.append(.contentionStarted(at: t, key: a.key, owner: a.owner, caller: a.caller, host: a.host))
        }
        var ep = ks.episode!
        ks.episode = nil
        ep.failures += 1
        ep.lastFailure = max(ep.lastFailure, t)
        ks.failures += 1
        if a.skipped { ks.skipped += 1 }
        if let owner = a.owner {
            ep.owners.insert(owner)
            ks.owners[owner, default: OwnerStats()].failures += 1
            if owner == a.caller { ks.owners[owner]!.selfHeld = true }
            if ep.ownerSince[owner] == nil { ep.ownerSince[owner] = t }
        }
        if !ep.fired.contains(.persistent), t - ep.start > thresholds.persistentAfter {
            ep.fired.insert(.persistent)
            alerts.append(.escalation(Escalation(at: t, reason: .persistent, key: a.key, profiles: [],
                                                 since: ep.start, failures: ep.failures, owners: texts(ep.owners))))
        }
        if !ep.fired.contains(.staleLock), let e = a.expires, t - e > thresholds.staleGrace {
            ep.fired.insert(.staleLock)
            alerts.append(.escalation(Escalation(at: t, reason: .staleLock, key: a.key, profiles: [],
                                                 since: ep.start, failures: ep.failures, owners: texts(ep.owners))))
        }
        let firedHere = alerts[already...].reduce(0) { n, alert in if case .escalation = alert { return n + 1 }; return n }
        if firedHere > 0 {
            ks.escalations += firedHere
            ks.escalated = true
            escalations += firedHere
        }
        var stuck: Alert? = nil
        if let owner = a.owner, !ep.stuckReported.contains(owner), let since = ep.ownerSince[owner],
           t - since > thresholds.ttl {
            ep.stuckReported.insert(owner)
            stuck = .ownerStuck(at: t, key: a.key, owner: owner, held: t - since)
        }
        ks.episode = ep
        keys[a.key] = ks
        openSymbols[a.key.profileName, default: [:]][a.key.symbolName] = ep.lastFailure
        activity[a.key.profileName] = t
        activityQueue.append((t, a.key.profileName))
        expireActivity(at: t)
        multiProfile(at: t, &alerts)
        if let stuck { alerts.append(stuck) }
    }

    /// Fires multi_profile when the active profiles first reach the threshold.
    private mutating func multiProfile(at t: EventTime, _ alerts: inout [Alert]) {
        guard !incident, activity.count >= thresholds.multiProfile else { return }
        incident = true
        escalations += 1
        var since: EventTime? = nil
        var failures = 0
        var owners: Set<Name> = []
        for p in activity.keys {
            for s in (openSymbols[p] ?? [:]).keys {
                let key = LockKey(profile: p, symbol: s)
                guard var ks = keys[key], var ep = ks.episode, t - ep.lastFailure <= activityWindow else { continue }
                since = min(since ?? ep.start, ep.start)
                failures += ep.failures
                owners.formUnion(ep.owners)
                ep.fired.insert(.multiProfile)
                ks.escalated = true
                ks.episode = ep
                keys[key] = ks
            }
        }
        alerts.append(.escalation(Escalation(at: t, reason: .multiProfile, key: nil, profiles: texts(activity.keys),
                                             since: since ?? t, failures: failures, owners: texts(owners))))
    }

    /// Drops profiles whose last failure left the activity window; ends an incident below the threshold.
    private mutating func expireActivity(at t: EventTime) {
        while let head = activityQueue.first, t - head.time > activityWindow {
            activityQueue.removeFirst()
            if activity[head.profile] == head.time { activity[head.profile] = nil }
        }
        if activity.count < thresholds.multiProfile { incident = false }
    }

    private mutating func acquired(_ r: LockRecord, _ alerts: inout [Alert]) {
        let key = LockKey(profile: r.profileName, symbol: r.symbolName ?? Name.empty)
        guard openSymbols[key.profileName]?[key.symbolName] != nil, var ks = keys.removeValue(forKey: key),
              let ep = ks.episode else { return }
        if r.time - ep.lastFailure > thresholds.episodeGap {
            close(&ks, key: key, as: .quiet, duration: ep.lastFailure - ep.start, at: r.time)
        } else {
            let duration = r.time - ep.start
            close(&ks, key: key, as: .recovered, duration: duration, at: r.time)
            alerts.append(.recovered(at: r.time, key: key, since: ep.start, duration: duration,
                                     failures: ep.failures, escalated: !ep.fired.isEmpty))
        }
        keys[key] = ks
        expireActivity(at: r.time)
    }

    /// Closes the open episode of a key and updates the profile's activity.
    private mutating func close(_ ks: inout KeyState, key: LockKey, as state: EpisodeState, duration: TimeSpan,
                                at now: EventTime) {
        ks.episode = nil
        ks.state = state
        ks.longest = max(ks.longest, duration)
        let profile = key.profileName
        openSymbols[profile]?[key.symbolName] = nil
        if openSymbols[profile]?.isEmpty ?? false { openSymbols[profile] = nil }
        // The profile stays active only through its other open episodes; a failure still within
        // the window still has its entry in the activity queue, which will expire it.
        if let latest = openSymbols[profile]?.values.max(), activity[profile] != nil, now - latest <= activityWindow {
            activity[profile] = latest
        } else {
            activity[profile] = nil
        }
    }

    private mutating func health(_ r: LockRecord, _ alerts: inout [Alert]) {
        guard let report = r.health else { return }
        let host = r.hostName ?? Name("unknown")
        var h = hosts[host] ?? HostHealth()
        if let c = report.lockContentionCount { h.lockContentionCount = c }
        if let v = report.tradingLoopHealthy {
            if !v && h.tradingLoopHealthy != false {
                alerts.append(.loopUnhealthy(at: r.time, host: host, loop: .trading))
            }
            h.tradingLoopHealthy = v
        }
        if let v = report.reconciliationLoopHealthy {
            if !v && h.reconciliationLoopHealthy != false {
                alerts.append(.loopUnhealthy(at: r.time, host: host, loop: .reconciliation))
            }
            h.reconciliationLoopHealthy = v
        }
        hosts[host] = h
    }

    /// The texts of names, sorted, for output.
    private func texts<S: Sequence<Name>>(_ names: S) -> [String] { names.map(\.string).sorted() }

    /// Ends the input at `end` (the latest event time seen): episodes silent for longer than
    /// the episode gap close as quiet; the others stay open.
    public mutating func finish(at end: EventTime?) {
        guard let end else { return }
        for (key, var ks) in keys {
            guard let ep = ks.episode else { continue }
            if end - ep.lastFailure > thresholds.episodeGap {
                close(&ks, key: key, as: .quiet, duration: ep.lastFailure - ep.start, at: end)
                keys[key] = ks
            }
        }
    }
}
