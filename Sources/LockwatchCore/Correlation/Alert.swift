/// The thresholds of docs/semantics.md ("Episodes, escalations, notices"), each a flag.
public struct Thresholds: Equatable, Sendable {
    /// The lock row's TTL (`--ttl`, 30 s).
    public var ttl: TimeSpan = .seconds(30)
    /// TTL cycles of contention before escalating (`--escalate-after`, 3).
    public var escalateAfter: Int = 3
    /// Distinct profiles contended at once that escalate (`--multi-profile`, 2).
    public var multiProfile: Int = 2
    /// How far past its expiry a lock may still block before it is stale (`--stale-grace`, 2 s).
    public var staleGrace: TimeSpan = .seconds(2)
    /// A warning and a failed record this close are one attempt (`--pair-window`, 1 s).
    public var pairWindow: TimeSpan = .seconds(1)
    /// Silence after which an episode closes as quiet (`--episode-gap`, 3 × TTL when nil).
    public var episodeGapOverride: TimeSpan? = nil
    /// How out of order records of one timeline may arrive (`--max-lateness`, 2 s).
    public var maxLateness: TimeSpan = .seconds(2)
    /// How far one host's records may trail the leading host's and still hold the others back
    /// (`--host-lag`, 10 s); on a live stream, also how long a silent input holds records back.
    public var hostLag: TimeSpan = .seconds(10)

    public init() {}

    /// The episode gap in force: the flag, else three TTLs.
    public var episodeGap: TimeSpan { episodeGapOverride ?? ttl * 3 }
    /// Contention longer than this escalates as persistent.
    public var persistentAfter: TimeSpan { ttl * escalateAfter }
}

/// The three escalation rules of the runbook.
public enum EscalationReason: String, CaseIterable, Comparable, Sendable {
    case persistent
    case staleLock = "stale_lock"
    case multiProfile = "multi_profile"

    public static func < (a: EscalationReason, b: EscalationReason) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The runbook's advice, carried by every escalation.
public let runbookAdvice = [
    "escalate to Platform Ops (see docs/runbooks/lock-timeout.md if it exists)",
    "do not delete lock rows manually while other workers are active",
    "do not restart all workers; indiscriminate restarts magnify contention",
    "hold new ENTRY signals for the affected profile until the lock clears",
]

/// An escalation: one of the runbook's rules crossed.
public struct Escalation: Equatable, Sendable {
    public var at: EventTime
    public var reason: EscalationReason
    /// The key, for persistent and stale_lock; nil for multi_profile.
    public var key: LockKey?
    /// The profiles contended at once, sorted (multi_profile only).
    public var profiles: [String]
    public var since: EventTime
    public var failures: Int
    /// The lock holders seen, sorted.
    public var owners: [String]

    /// Which of `escalations` (in the order they fired) are multi_profile ones that repeat an
    /// earlier one (`MultiProfileRun`).
    public static func repeated(_ escalations: [Escalation], ttl: TimeSpan) -> [Bool] {
        var run = MultiProfileRun(ttl: ttl)
        return escalations.map { run.repeats($0) }
    }

    /// The escalations a bounded list shows: persistent and stale_lock ones first, then the
    /// multi_profile ones that do not repeat an earlier one — those naming one of the `lasting`
    /// profiles (`Summary.lastingProfiles`) before those among brief contention only — each in
    /// the order they fired.
    public static func listed(_ escalations: [Escalation], ttl: TimeSpan, lasting: Set<String>) -> [Escalation] {
        let multi = zip(escalations, repeated(escalations, ttl: ttl)).filter { $0.0.key == nil && !$0.1 }.map(\.0)
        return escalations.filter { $0.key != nil } + multi.filter { !$0.isAmongBriefContention(lasting) }
            + multi.filter { $0.isAmongBriefContention(lasting) }
    }

    /// A multi_profile escalation none of whose profiles is `lasting` (`Summary.lastingProfiles`).
    public func isAmongBriefContention(_ lasting: Set<String>) -> Bool {
        key == nil && !profiles.contains(where: lasting.contains)
    }
}

/// Tells, of the multi_profile escalations in the order they fired, those that repeat one
/// already listed: one profile blocked while others pass through contention fires one each
/// time (docs/semantics.md, "Text output"). An escalation repeats when it comes within one TTL
/// of the multi_profile escalation before it (either way: a late record may fire one with an
/// earlier time) and has a profile in common with the last one listed; otherwise it is listed.
public struct MultiProfileRun: Sendable {
    let ttl: TimeSpan
    private var listed: Escalation?
    private var previous: Escalation?

    public init(ttl: TimeSpan) { self.ttl = ttl }

    /// Whether `e` repeats; a persistent or stale_lock escalation never does, and leaves the
    /// run as it is.
    public mutating func repeats(_ e: Escalation) -> Bool {
        guard e.key == nil else { return false }
        defer { previous = e }
        if let previous, let listed, abs((e.at - previous.at).micros) <= ttl.micros,
           e.profiles.contains(where: listed.profiles.contains) {
            return true
        }
        listed = e
        return false
    }
}

/// Which trading-worker loop a health record reported unhealthy.
public enum Loop: String, CaseIterable, Sendable {
    case trading, reconciliation
}

/// An event lockwatch reports as it happens (docs/semantics.md, "Output").
public enum Alert: Equatable, Sendable {
    case contentionStarted(at: EventTime, key: LockKey, owner: Name?, caller: Name?, host: Name?)
    case escalation(Escalation)
    /// `selfHeld`: the failure that found the owner stuck named it as its own caller.
    case ownerStuck(at: EventTime, key: LockKey, owner: Name, held: TimeSpan, selfHeld: Bool)
    case recovered(at: EventTime, key: LockKey, since: EventTime, duration: TimeSpan, failures: Int, escalated: Bool)
    case loopUnhealthy(at: EventTime, host: Name, loop: Loop)

    /// The `type` of the event in the JSON output.
    public var type: StaticString {
        switch self {
        case .contentionStarted: "contention_started"
        case .escalation: "escalation"
        case .ownerStuck: "owner_stuck"
        case .recovered: "recovered"
        case .loopUnhealthy: "loop_unhealthy"
        }
    }

    /// When it happened.
    public var at: EventTime {
        switch self {
        case .contentionStarted(let at, _, _, _, _), .ownerStuck(let at, _, _, _, _),
             .recovered(let at, _, _, _, _, _), .loopUnhealthy(let at, _, _):
            at
        case .escalation(let e): e.at
        }
    }
}
