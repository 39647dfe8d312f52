
/// The state of a key's latest episode.
public enum EpisodeState: String, Sendable {
    case open, recovered, quiet
}

/// An open contention episode of one key.
///
/// Small arrays instead of sets and dictionaries: an episode has a holder or two, and with
/// `--max-keys` of them in memory each hash table would cost a few hundred bytes.
struct Episode: Equatable, Sendable {
    var start: EventTime
    var lastFailure: EventTime
    var failures = 0
    /// The holders reported, each with its first failure and whether owner_stuck fired for it.
    var owners: [EpisodeOwner] = []
    var fired = ReasonSet()

    var ownerNames: [Name] { owners.map(\.name) }
}

/// A holder of an episode's lock.
struct EpisodeOwner: Equatable, Sendable {
    var name: Name
    /// The first failure reporting it.
    var since: EventTime
    var stuckReported = false
}

/// A set of escalation reasons, as bits.
struct ReasonSet: Equatable, Sendable {
    private var bits: UInt8 = 0

    private static func bit(_ r: EscalationReason) -> UInt8 {
        switch r {
        case .persistent: 1
        case .staleLock: 2
        case .multiProfile: 4
        }
    }

    func contains(_ r: EscalationReason) -> Bool { bits & Self.bit(r) != 0 }
    mutating func insert(_ r: EscalationReason) { bits |= Self.bit(r) }
    var isEmpty: Bool { bits == 0 }

    init() {}
    init(_ reasons: [EscalationReason]) { for r in reasons { insert(r) } }
    var reasons: [EscalationReason] { EscalationReason.allCases.filter(contains) }
}

/// What lockwatch knows of one holder of one key.
public struct OwnerStats: Equatable, Sendable {
    public var failures = 0
    /// Whether a failure reported this owner as the caller itself.
    public var selfHeld = false
    /// The first and the last failure that named this owner as the holder (0 when restored
    /// from a state saved before they were kept).
    public var first = EventTime(micros: 0)
    public var last = EventTime(micros: 0)
    /// The longest it was seen holding the key within one episode: from the first failure of
    /// the episode that named it to a later one.
    public var longest = TimeSpan.zero

    /// Adds another key's account of the same holder (a first or last of 0 is unknown).
    public mutating func add(_ o: OwnerStats) {
        failures += o.failures
        selfHeld = selfHeld || o.selfHeld
        longest = max(longest, o.longest)
        guard o.first.micros != 0 else { return }
        first = first.micros == 0 ? o.first : min(first, o.first)
        last = max(last, o.last)
    }
}

/// A time a host's loop reported unhealthy: from the first report that said so to the first
/// that said it was healthy again (nil while it has not).
public struct UnhealthyPeriod: Equatable, Sendable {
    public var loop: Loop
    public var start: EventTime
    public var end: EventTime?
}

/// A host's unhealthy periods: how many there were, and the latest `kept` of them.
struct HostSpells: Sendable {
    static let kept = 1_000
    var count = 0
    var periods: [UnhealthyPeriod] = []
}

/// Everything kept per key: counters for the summary and the open episode, if any. (The
/// one-byte fields last: laid out in this order, the state takes 96 bytes, not 112.)
struct KeyState: Sendable {
    var failures = 0
    var skipped = 0
    var episodes = 0
    var escalations = 0
    var longest = TimeSpan.zero
    /// Its holders, in the order of their texts: the summary hands this array on as it is.
    var owners: [Summary.Owner] = []
    /// The key's latest failure or closing, for eviction.
    var lastSeen = EventTime(micros: 0)
    var episode: Episode?
    var escalated = false
    var state = EpisodeState.open
}

/// The episode state machine: `apply` takes one input in event-time order and returns the
/// alerts it decided. It has no side effects and never reads a clock.
public struct Correlator: Sendable {
    public let thresholds: Thresholds
    /// At most this many keys are tracked (`--max-keys`); beyond, keys are evicted.
    public let maxKeys: Int
    /// Keys evicted to stay within `maxKeys`.
    public private(set) var evicted = 0
    /// Per key, its place in `states` and `keyOf`: the states live in an array and change in
    /// place, with one hash lookup per record.
    var slots = IntMap<Int>()
    var states: [KeyState] = []
    var keyOf: [LockKey] = []
    /// Per profile, its symbols with an open episode.
    var openSymbols: [Name: [Name]] = [:]
    /// Per profile: the last failure of its open episodes, while within the activity window.
    var activity = IntMap<EventTime>()
    var activityQueue = Ring<(time: EventTime, profile: Name)>()
    /// The latest event time applied so far.
    var latest: EventTime?
    /// Whether a multi_profile incident is going on.
    var incident = false
    var hosts: [Name: HealthReport] = [:]
    /// Per host that reported a loop unhealthy: its unhealthy periods.
    var spells: [Name: HostSpells] = [:]
    /// Escalations fired, all reasons.
    public private(set) var escalations = 0
    /// With `keepsClosedEpisodes`: the episodes closed since the caller last emptied this.
    public var closedEpisodes: [EpisodeRecord] = []
    /// Whether to keep each closed episode for a report.
    public var keepsClosedEpisodes = false

    public init(thresholds: Thresholds, maxKeys: Int = 100_000) {
        self.thresholds = thresholds
        self.maxKeys = max(1, maxKeys)
    }

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
            if let host = a.host, hosts[host] == nil { hosts[host] = HealthReport() }
            attempt(a, &alerts)
        case .joined(let j):
            // The attempt it joined counted its failure; the key may have been evicted since.
            if let i = slots[j.key.packed] { states[i].skipped += 1 }
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

    /// Reads a key's state in place: an element read through the array's getter is a copy,
    /// its holders retained and released, for every record.
    @inline(__always) private func peek<T>(_ i: Int, _ read: (borrowing KeyState) -> T) -> T {
        states.withUnsafeBufferPointer { read($0[i]) }
    }

    /// The slot of a key's state, made on first sight (evicting others when the table is full).
    private mutating func slot(_ key: LockKey, at now: EventTime) -> Int {
        if let i = slots[key.packed] { return i }
        if states.count >= maxKeys { evict(at: now) }
        slots[key.packed] = states.count
        states.append(KeyState())
        keyOf.append(key)
        return states.count - 1
    }

    private mutating func attempt(_ a: Attempt, _ alerts: inout [Alert]) {
        let t = a.time
        let i = slot(a.key, at: t)
        // The episode's fields are read in place: binding the episode would copy it (and
        // retain its holders) for every record.
        if let (start, last) = peek(i, { $0.episode.map { ($0.start, $0.lastFailure) } }), t - last > thresholds.episodeGap {
            close(i, as: .quiet, duration: last - start, at: t)
        }
        let thresholds = thresholds
        let opening = peek(i, { $0.episode == nil })
        let (fired, stuck) = Self.apply(a, to: &states[i], thresholds: thresholds, alerts: &alerts)
        escalations += fired
        if t > peek(i, { $0.lastSeen }) { states[i].lastSeen = t }
        // A key is among its profile's open symbols exactly while it has an open episode: only
        // an episode opening adds it (closing one removes it).
        if opening { Self.addOnce(a.key.symbolName, to: &openSymbols[a.key.profileName, default: []]) }
        // A failure already outside the window of the latest time (a record later than the
        // lateness allows) does not make its profile active.
        // A profile's activity is its latest failure: a late one never moves it back. The queue
        // stays in time order (a late failure goes to its place), so that each entry expires
        // exactly one activity window after its time.
        let profile = a.key.profileName
        if (latest.map { $0 - t <= activityWindow } ?? true) {
            // Every such failure has its entry: when the profile's latest episode closes, its
            // activity falls back to the last failure of another open episode, which must expire.
            if activity[profile.key].map({ t > $0 }) ?? true { activity[profile.key] = t }
            if let last = activityQueue.last, t < last.time {
                activityQueue.insert((t, profile), at: Self.partitionPoint(activityQueue.count) { activityQueue[$0].time <= t })
            } else {
                activityQueue.append((t, profile))
            }
        }
        expireActivity(at: t)
        multiProfile(at: t, &alerts)
        if let stuck { alerts.append(.ownerStuck(at: t, key: a.key, owner: stuck.name, held: t - stuck.since, selfHeld: stuck.name == a.caller)) }
    }

    /// A failed attempt on one key's state, in place (an episode gone quiet is closed before):
    /// opens an episode, counts, and appends its escalations; returns how many fired and the
    /// holder an owner_stuck alert is for, if any, which goes out after multi_profile (a
    /// holder, not the alert: an optional alert is large, and copied back on every call).
    private static func apply(_ a: Attempt, to ks: inout KeyState, thresholds: Thresholds,
                              alerts: inout [Alert]) -> (fired: Int, stuck: EpisodeOwner?) {
        let t = a.time
        if ks.episode == nil {
            ks.episode = Episode(start: t, lastFailure: t)
            ks.episodes += 1
            ks.state = .open
            alerts.append(.contentionStarted(at: t, key: a.key, owner: a.owner, caller: a.caller, host: a.host))
        }
        ks.failures += 1
        if a.skipped { ks.skipped += 1 }
        var ownerIndex: Int? = nil
        if let owner = a.owner {
            // Found by id (a key has few holders, and ids are compared without reading the name
            // table); a new one goes to its place in the order of the texts.
            let k = ks.owners.firstIndex { $0.name == owner } ?? {
                let at = partitionPoint(ks.owners.count) { NameTable.shared.textPrecedes(ks.owners[$0].name, owner) }
                ks.owners.insert(Summary.Owner(name: owner, stats: OwnerStats(first: t, last: t)), at: at)
                return at
            }()
            ks.owners[k].stats.failures += 1
            ks.owners[k].stats.first = min(ks.owners[k].stats.first, t)
            ks.owners[k].stats.last = max(ks.owners[k].stats.last, t)
            if owner == a.caller { ks.owners[k].stats.selfHeld = true }
            ownerIndex = k
        }
        var fired = 0
        var stuck: EpisodeOwner? = nil
        // The episode changes in place (force-unwrapped access does not copy it).
        ks.episode!.failures += 1
        ks.episode!.lastFailure = max(ks.episode!.lastFailure, t)
        var holder: Int? = nil
        if let owner = a.owner {
            holder = ks.episode!.owners.firstIndex { $0.name == owner }
            if holder == nil {
                ks.episode!.owners.append(EpisodeOwner(name: owner, since: t))
                holder = ks.episode!.owners.count - 1
            }
            if let k = ownerIndex, let h = holder {
                let held = t - ks.episode!.owners[h].since
                if held > ks.owners[k].stats.longest { ks.owners[k].stats.longest = held }
            }
        }
        let start = ks.episode!.start
        if !ks.episode!.fired.contains(.persistent), t - start > thresholds.persistentAfter {
            ks.episode!.fired.insert(.persistent)
            alerts.append(.escalation(Escalation(at: t, reason: .persistent, key: a.key, profiles: [], since: start,
                                                 failures: ks.episode!.failures, owners: texts(ks.episode!.ownerNames))))
            fired += 1
        }
        if !ks.episode!.fired.contains(.staleLock), let e = a.expires, t - e > thresholds.staleGrace {
            ks.episode!.fired.insert(.staleLock)
            alerts.append(.escalation(Escalation(at: t, reason: .staleLock, key: a.key, profiles: [], since: start,
                                                 failures: ks.episode!.failures, owners: texts(ks.episode!.ownerNames))))
            fired += 1
        }
        if fired > 0 {
            ks.escalations += fired
            ks.escalated = true
        }
        if let k = holder, !ks.episode!.owners[k].stuckReported, t - ks.episode!.owners[k].since > thresholds.ttl {
            ks.episode!.owners[k].stuckReported = true
            stuck = ks.episode!.owners[k]
        }
        return (fired, stuck)
    }

    /// Makes room for new keys: drops a tenth of them (at least one) — closed episodes first,
    /// the longest silent first, then open ones by their last failure. Their counts leave the
    /// summary; how many went is counted.
    private mutating func evict(at now: EventTime) {
        let n = max(1, maxKeys / 10)
        let order = states.indices.sorted {
            let a = states[$0], b = states[$1]
            if (a.episode == nil) != (b.episode == nil) { return a.episode == nil }
            return a.lastSeen < b.lastSeen
        }
        var drop = [Bool](repeating: false, count: states.count)
        for i in order.prefix(n) {
            drop[i] = true
            if let ep = states[i].episode {
                if keepsClosedEpisodes { closedEpisodes.append(EpisodeRecord(key: keyOf[i], ep, end: ep.lastFailure, state: .quiet)) }
                states[i].episode = nil
                closedEpisode(key: keyOf[i], at: now)
            }
        }
        var keptStates: [KeyState] = [], keptKeys: [LockKey] = []
        keptStates.reserveCapacity(states.count)
        keptKeys.reserveCapacity(states.count)
        slots.removeAll()
        for i in states.indices where !drop[i] {
            slots[keyOf[i].packed] = keptStates.count
            keptStates.append(states[i])
            keptKeys.append(keyOf[i])
        }
        evicted += states.count - keptStates.count
        states = keptStates
        keyOf = keptKeys
    }

    /// The profiles active now.
    private var activeProfiles: [Name] { activity.entries.map { Name(id: UInt32($0.key)) } }

    /// Fires multi_profile when the active profiles first reach the threshold.
    private mutating func multiProfile(at t: EventTime, _ alerts: inout [Alert]) {
        guard !incident, activity.count >= thresholds.multiProfile else { return }
        incident = true
        escalations += 1
        var since: EventTime? = nil
        var failures = 0
        var owners: Set<Name> = []
        for p in activeProfiles {
            for s in openSymbols[p] ?? [] {
                guard let i = slots[LockKey(profile: p, symbol: s).packed], let ep = states[i].episode,
                      t - ep.lastFailure <= activityWindow else { continue }
                since = min(since ?? ep.start, ep.start)
                failures += ep.failures
                owners.formUnion(ep.ownerNames)
                states[i].episode!.fired.insert(.multiProfile)
                states[i].escalated = true
            }
        }
        alerts.append(.escalation(Escalation(at: t, reason: .multiProfile, key: nil, profiles: Self.texts(activeProfiles),
                                             since: since ?? t, failures: failures, owners: Self.texts(owners))))
    }

    /// Drops profiles whose last failure left the activity window; ends an incident below the threshold.
    ///
    /// Expiry runs on the latest time seen, never backwards: records that arrive later than
    /// the lateness allows cannot hold the queue (and memory) until time catches up.
    private mutating func expireActivity(at t: EventTime) {
        latest = max(latest ?? t, t)
        let now = latest!
        while let head = activityQueue.first, now - head.time > activityWindow {
            activityQueue.removeFirst()
            if activity[head.profile.key] == head.time { activity[head.profile.key] = nil }
        }
        if activity.count < thresholds.multiProfile { incident = false }
    }

    private mutating func acquired(_ r: LockRecord, _ alerts: inout [Alert]) {
        let key = LockKey(profile: r.profileName, symbol: r.symbolName ?? Name.empty)
        guard let i = slots[key.packed],
              let (start, last, failures, escalated) = peek(i, { $0.episode.map { ($0.start, $0.lastFailure, $0.failures, !$0.fired.isEmpty) } })
        else { return }
        if r.time - last > thresholds.episodeGap {
            close(i, as: .quiet, duration: last - start, at: r.time)
        } else {
            let duration = r.time - start
            close(i, as: .recovered, duration: duration, at: r.time)
            alerts.append(.recovered(at: r.time, key: key, since: start, duration: duration,
                                     failures: failures, escalated: escalated))
        }
        expireActivity(at: r.time)
    }

    /// Closes the open episode of the key in slot `i` and updates the profile's activity.
    private mutating func close(_ i: Int, as state: EpisodeState, duration: TimeSpan, at now: EventTime) {
        if keepsClosedEpisodes, let ep = states[i].episode {
            closedEpisodes.append(EpisodeRecord(key: keyOf[i], ep, end: state == .recovered ? now : ep.lastFailure, state: state))
        }
        states[i].episode = nil
        if now > peek(i, { $0.lastSeen }) { states[i].lastSeen = now }
        states[i].state = state
        if duration > peek(i, { $0.longest }) { states[i].longest = duration }
        closedEpisode(key: keyOf[i], at: now)
    }

    /// The first of `0..<count` for which `isBefore` is false, where it is true for a prefix of
    /// them and false for the rest (a binary search).
    static func partitionPoint(_ count: Int, _ isBefore: (Int) -> Bool) -> Int {
        var (lo, hi) = (0, count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if isBefore(mid) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Adds `name` to `list` unless it is there (in place: one lookup of the list).
    private static func addOnce(_ name: Name, to list: inout [Name]) {
        if !list.contains(name) { list.append(name) }
    }

    /// After a key's episode closed: the profile's open symbols and activity.
    private mutating func closedEpisode(key: LockKey, at now: EventTime) {
        let profile = key.profileName
        // The profile stays active only through its other open episodes; a failure still within
        // the window still has its entry in the activity queue, which will expire it. (One
        // lookup of the profile's open symbols, changed in place.)
        var latest: EventTime? = nil
        if let d = openSymbols.index(forKey: profile) {
            openSymbols.values[d].removeAll { $0 == key.symbolName }
            if openSymbols.values[d].isEmpty {
                openSymbols.remove(at: d)
            } else {
                for s in openSymbols.values[d] {
                    if let t = slots[LockKey(profile: profile, symbol: s).packed].flatMap({ k in peek(k, { $0.episode?.lastFailure }) }) {
                        latest = max(latest ?? t, t)
                    }
                }
            }
        }
        if let latest, activity[profile.key] != nil, now - latest <= activityWindow {
            activity[profile.key] = latest
        } else {
            activity[profile.key] = nil
        }
    }

    private mutating func health(_ r: LockRecord, _ alerts: inout [Alert]) {
        guard let report = r.health else { return }
        let host = r.hostName ?? Name("unknown")
        var h = hosts[host] ?? HealthReport()
        if let c = report.lockContentionCount { h.lockContentionCount = c }
        if let v = report.tradingLoopHealthy {
            if !v && h.tradingLoopHealthy != false {
                alerts.append(.loopUnhealthy(at: r.time, host: host, loop: .trading))
            }
            if v != h.tradingLoopHealthy { spell(host, .trading, healthy: v, at: r.time) }
            h.tradingLoopHealthy = v
        }
        if let v = report.reconciliationLoopHealthy {
            if !v && h.reconciliationLoopHealthy != false {
                alerts.append(.loopUnhealthy(at: r.time, host: host, loop: .reconciliation))
            }
            if v != h.reconciliationLoopHealthy { spell(host, .reconciliation, healthy: v, at: r.time) }
            h.reconciliationLoopHealthy = v
        }
        hosts[host] = h
    }

    /// Opens an unhealthy period of the host's loop, or closes its open one.
    private mutating func spell(_ host: Name, _ loop: Loop, healthy: Bool, at t: EventTime) {
        if healthy {
            guard var s = spells[host] else { return }
            guard let i = s.periods.lastIndex(where: { $0.loop == loop && $0.end == nil }) else { return }
            s.periods[i].end = t
            spells[host] = s
        } else {
            var s = spells[host] ?? HostSpells()
            s.count += 1
            // Full: the oldest closed period goes (an open one is kept, to be closed).
            if s.periods.count == HostSpells.kept { s.periods.remove(at: s.periods.firstIndex { $0.end != nil } ?? 0) }
            s.periods.append(UnhealthyPeriod(loop: loop, start: t, end: nil))
            spells[host] = s
        }
    }

    /// The texts of names, sorted, for output.
    private static func texts<S: Sequence<Name>>(_ names: S) -> [String] { names.map(\.string).sorted() }

    /// Profiles whose latest failure is within the activity window of `now`.
    func activeProfiles(at now: EventTime) -> Int {
        activity.entries.reduce(0) { $0 + (now - $1.value <= activityWindow ? 1 : 0) }
    }

    /// The open episode of `key`: its first and latest failure; nil when it has none.
    func episodeSpan(of key: LockKey) -> (start: EventTime, lastFailure: EventTime)? {
        guard let i = slots[key.packed] else { return nil }
        return peek(i, { $0.episode.map { ($0.start, $0.lastFailure) } })
    }

    /// Ends the input at `end` (the latest event time seen): episodes silent for longer than
    /// the episode gap close as quiet; the others stay open.
    public mutating func finish(at end: EventTime?) {
        guard let end else { return }
        for i in states.indices {
            guard let ep = states[i].episode else { continue }
            if end - ep.lastFailure > thresholds.episodeGap {
                close(i, as: .quiet, duration: ep.lastFailure - ep.start, at: end)
            }
        }
    }
}

extension Correlator {
    /// Everything the correlator holds, with names as texts (for `--state`).
    var saved: SavedCorrelator {
        let keys = zip(keyOf, states).map { key, ks in
            SavedKey(profile: key.profile, symbol: key.symbol, failures: ks.failures, skipped: ks.skipped,
                     episodes: ks.episodes, escalations: ks.escalations, escalated: ks.escalated,
                     longest: ks.longest.micros,
                     owners: ks.owners.map { SavedOwner(name: $0.name.string, failures: $0.stats.failures, selfHeld: $0.stats.selfHeld,
                                                        first: $0.stats.first.micros, last: $0.stats.last.micros,
                                                        longest: $0.stats.longest.micros) },
                     state: ks.state, lastSeen: ks.lastSeen.micros,
                     episode: ks.episode.map { ep in
                         SavedEpisode(start: ep.start.micros, lastFailure: ep.lastFailure.micros, failures: ep.failures,
                                      owners: ep.owners.map { SavedHolder(name: $0.name.string, since: $0.since.micros, stuckReported: $0.stuckReported) },
                                      fired: ep.fired.reasons)
                     })
        }
        return SavedCorrelator(
            evicted: evicted, escalations: escalations, latest: latest?.micros, incident: incident, keys: keys,
            activity: activity.entries.map { SavedActivity(profile: Name(id: UInt32($0.key)).string, time: $0.value.micros) }
                .sorted { $0.profile < $1.profile },
            // Only the entries that can still expire a profile: its activity now, or the last
            // failure of an open episode of its (which its activity falls back to when a later
            // episode closes); the others' expiry changes nothing.
            activityQueue: activityQueue.filter { e in
                activity[e.profile.key] == e.time || (openSymbols[e.profile] ?? []).contains { s in
                    slots[LockKey(profile: e.profile, symbol: s).packed].map { states[$0].episode?.lastFailure == e.time } ?? false
                }
            }.map { SavedActivity(profile: $0.profile.string, time: $0.time.micros) },
            hosts: hosts.map { host, health in
                let s = spells[host]
                return SavedHost(host: host.string, health: health, spells: s?.count,
                                 periods: s?.periods.map { SavedPeriod(loop: $0.loop.rawValue, start: $0.start.micros, end: $0.end?.micros) })
            }.sorted { $0.host < $1.host })
    }

    /// A correlator that continues from a saved one. The open symbols of each profile are
    /// the keys with an open episode.
    init(thresholds: Thresholds, maxKeys: Int, restoring saved: SavedCorrelator) {
        self.init(thresholds: thresholds, maxKeys: maxKeys)
        evicted = saved.evicted
        escalations = saved.escalations
        latest = saved.latest.map { EventTime(micros: $0) }
        incident = saved.incident
        for k in saved.keys {
            let key = LockKey(profile: k.profile, symbol: k.symbol)
            guard slots[key.packed] == nil else { continue }
            var ks = KeyState()
            ks.failures = k.failures; ks.skipped = k.skipped; ks.episodes = k.episodes
            ks.escalations = k.escalations; ks.escalated = k.escalated; ks.longest = TimeSpan(micros: k.longest)
            ks.owners = k.owners.map {
                Summary.Owner(name: Name($0.name), stats: OwnerStats(failures: $0.failures, selfHeld: $0.selfHeld,
                                           first: EventTime(micros: $0.first ?? 0), last: EventTime(micros: $0.last ?? 0),
                                           longest: TimeSpan(micros: $0.longest ?? 0)))
            }.sorted { NameTable.shared.textPrecedes($0.name, $1.name) }
            ks.state = k.state
            ks.lastSeen = EventTime(micros: k.lastSeen)
            if let e = k.episode {
                ks.episode = Episode(start: EventTime(micros: e.start), lastFailure: EventTime(micros: e.lastFailure),
                                     failures: e.failures,
                                     owners: e.owners.map { EpisodeOwner(name: Name($0.name), since: EventTime(micros: $0.since), stuckReported: $0.stuckReported) },
                                     fired: ReasonSet(e.fired))
                Self.addOnce(key.symbolName, to: &openSymbols[key.profileName, default: []])
            }
            slots[key.packed] = states.count
            states.append(ks)
            keyOf.append(key)
        }
        for a in saved.activity { activity[Name(a.profile).key] = EventTime(micros: a.time) }
        activityQueue = Ring(saved.activityQueue.map { (EventTime(micros: $0.time), Name($0.profile)) })
        for h in saved.hosts {
            hosts[Name(h.host)] = h.health
            if let n = h.spells, n > 0 {
                // A loop this version does not know (saved by a newer one) is left out.
                spells[Name(h.host)] = HostSpells(count: n, periods: (h.periods ?? []).compactMap { p in
                    Loop(rawValue: p.loop).map { UnhealthyPeriod(loop: $0, start: EventTime(micros: p.start), end: p.end.map { EventTime(micros: $0) }) }
                })
            }
        }
    }
}

/// One contention episode, for reports: from its first failure to its recovery, its last
/// failure when it went quiet, or the end of the input while still open.
public struct EpisodeRecord: Sendable {
    public var key: LockKey
    public var start: EventTime
    public var end: EventTime
    public var state: EpisodeState
    public var failures: Int
    public var owners: [String]
    public var escalations: [EscalationReason]

    init(key: LockKey, _ ep: Episode, end: EventTime, state: EpisodeState) {
        self.key = key; start = ep.start; self.end = end; self.state = state; failures = ep.failures
        owners = ep.owners.map(\.name.string); escalations = ep.fired.reasons
    }
}

extension Correlator {
    /// The episodes still open, as of `end`.
    public func openEpisodes(at end: EventTime) -> [EpisodeRecord] {
        zip(keyOf, states).compactMap { key, ks in ks.episode.map { EpisodeRecord(key: key, $0, end: end, state: .open) } }
    }

    /// The open episodes now, in no particular order: what the metrics and the live view show.
    public func openEpisodeSnapshots() -> [OpenEpisodeSnapshot] {
        zip(keyOf, states).compactMap { key, ks in
            ks.episode.map { OpenEpisodeSnapshot(key: key, start: $0.start, lastFailure: $0.lastFailure, failures: $0.failures,
                                                 owners: $0.ownerNames, fired: $0.fired.reasons) }
        }
    }

    /// Per key tracked: the failures and skipped signals counted so far, and its open
    /// episode's last failure (what continued counters start from).
    public func keyTotals() -> [KeyTotals] {
        zip(keyOf, states).map { KeyTotals(key: $0, failures: $1.failures, skipped: $1.skipped, lastFailure: $1.episode?.lastFailure) }
    }
}

/// An open episode as the correlator's readers see it.
public struct OpenEpisodeSnapshot: Sendable {
    public let key: LockKey
    public let start: EventTime
    public let lastFailure: EventTime
    public let failures: Int
    /// The owners that blocked it, in the order first seen.
    public let owners: [Name]
    /// The escalation reasons that fired in it.
    public let fired: [EscalationReason]
}

/// One key's totals so far (`Correlator.keyTotals`).
public struct KeyTotals: Sendable {
    public let key: LockKey
    public let failures: Int
    public let skipped: Int
    /// Its open episode's last failure; nil without one.
    public let lastFailure: EventTime?
}
