// Correlation: lock records → attempts → episodes, escalations and notices.
// Nothing here knows of log formats or regexes; time is event time only.

import DequeModule

/// A lock key: contention is tracked per profile and symbol (empty when no record had one).
public struct LockKey: Hashable, Comparable, Sendable {
    public var profileName: Name
    public var symbolName: Name

    public init(profile: Name, symbol: Name) { profileName = profile; symbolName = symbol }
    public init(profile: String, symbol: String) { self.init(profile: Name(profile), symbol: Name(symbol)) }

    public var profile: String { profileName.string }
    public var symbol: String { symbolName.string }

    public func hash(into hasher: inout Hasher) { hasher.combine(profileName.id); hasher.combine(symbolName.id) }

    public func _rawHashValue(seed: Int) -> Int {
        mixHash(UInt64(profileName.id) << 32 | UInt64(symbolName.id), seed: seed)
    }

    /// `profile / symbol` (`-` for no symbol), for people.
    var label: String { "\(profile) / \(symbol.isEmpty ? "-" : symbol)" }

    /// In order of the texts, for the summary.
    public static func < (a: LockKey, b: LockKey) -> Bool { (a.profile, a.symbol) < (b.profile, b.symbol) }
}

/// One failed attempt to take the entry lock: a failed record, a warning, or both paired.
public struct Attempt: Equatable, Sendable {
    /// The time of its earliest record.
    public var time: EventTime
    public var key: LockKey
    public var owner: Name?
    public var caller: Name?
    public var expires: EventTime?
    public var host: Name?
    /// Whether its warning said the trading loop skipped a signal.
    public var skipped: Bool

    public init(time: EventTime, key: LockKey, owner: Name? = nil, caller: Name? = nil,
                expires: EventTime? = nil, host: Name? = nil, skipped: Bool = false) {
        self.time = time; self.key = key; self.owner = owner; self.caller = caller
        self.expires = expires; self.host = host; self.skipped = skipped
    }

    /// Builds an attempt from one record, or from a pair (the earlier first).
    init(_ first: LockRecord, _ second: LockRecord?) {
        let failed = first.kind == .failed ? first : (second?.kind == .failed ? second : nil)
        let warning = first.kind == .warning ? first : (second?.kind == .warning ? second : nil)
        time = first.time
        key = LockKey(profile: first.profileName, symbol: failed?.symbolName ?? warning?.symbolName ?? Name.empty)
        owner = failed?.ownerName ?? warning?.ownerName
        caller = failed?.callerName ?? warning?.callerName
        expires = failed?.expires ?? warning?.expires
        host = first.hostName ?? second?.hostName
        skipped = (warning?.skipped ?? false) || (failed?.skipped ?? false)
    }
}

/// What Correlation consumes, in event-time order.
public enum CorrelationInput: Equatable, Sendable {
    case attempt(Attempt)
    case acquired(LockRecord)
    case released(LockRecord)
    case health(LockRecord)

    /// The event time at which this input happened.
    public var time: EventTime {
        switch self {
        case .attempt(let a): a.time
        case .acquired(let r), .released(let r), .health(let r): r.time
        }
    }
}

/// Pairs warnings with failed records into attempts (SPEC section 3, "Attempts").
///
/// Records arrive in event-time order. A failed record or warning waits up to the pair window
/// for its partner: same profile, and the same symbol and host where both carry them, in
/// either order; each record pairs at most once, with the earliest waiting partner. Other
/// records wait behind it so that the order downstream stays the order of event time.
public struct AttemptPairer: Sendable {
    public let window: TimeSpan
    private struct Waiting: Sendable {
        var record: LockRecord
        var partner: LockRecord?
        var complete: Bool
    }
    private var waiting: Deque<Waiting> = []
    /// The sequence number of `waiting.first`; records are numbered as they arrive.
    private var firstSequence = 0
    /// Per profile, its records still waiting for a partner, oldest first: a partner is looked
    /// for among a few, by what pairing compares, without touching the records themselves.
    private var unpaired: [Name: Deque<Candidate>] = [:]

    private struct Candidate: Sendable {
        var sequence: Int
        var kind: RecordKind
        var time: EventTime
        var symbol: Name?
        var host: Name?

        init(_ r: LockRecord, sequence: Int) {
            self.sequence = sequence; kind = r.kind; time = r.time; symbol = r.symbolName; host = r.hostName
        }

        /// Whether `r` (of the same profile) may pair with this record.
        func pairs(with r: LockRecord, complement: RecordKind, window: TimeSpan) -> Bool {
            guard kind == complement, abs((r.time - time).micros) <= window.micros else { return false }
            if let s1 = symbol, let s2 = r.symbolName, s1 != s2 { return false }
            if let h1 = host, let h2 = r.hostName, h1 != h2 { return false }
            return true
        }
    }

    public init(window: TimeSpan) { self.window = window }

    /// Takes the next record and returns the inputs it made final, in order.
    public mutating func push(_ r: LockRecord) -> [CorrelationInput] {
        var out: [CorrelationInput] = []
        push(r, into: &out)
        return out
    }

    /// Takes the next record and appends the inputs it made final, in order.
    public mutating func push(_ r: LockRecord, into out: inout [CorrelationInput]) {
        release(before: r.time, into: &out)
        if r.kind == .failed || r.kind == .warning {
            let complement: RecordKind = r.kind == .failed ? .warning : .failed
            let profile = r.profileName
            if let k = unpaired[profile]?.firstIndex(where: { $0.pairs(with: r, complement: complement, window: window) }) {
                let at = unpaired[profile]!.remove(at: k).sequence - firstSequence
                if unpaired[profile]!.isEmpty { unpaired[profile] = nil }
                waiting[at].partner = r
                waiting[at].complete = true
            } else {
                waiting.append(Waiting(record: r, partner: nil, complete: false))
                unpaired[profile, default: []].append(Candidate(r, sequence: firstSequence + waiting.count - 1))
            }
        } else {
            waiting.append(Waiting(record: r, partner: nil, complete: true))
        }
        release(before: nil, into: &out)
    }

    /// Releases everything still waiting (end of input, or a live input gone idle).
    public mutating func flush() -> [CorrelationInput] {
        var out: [CorrelationInput] = []
        while let w = waiting.popFirst() { out.append(Self.input(w)) }
        firstSequence += out.count
        unpaired.removeAll()
        return out
    }

    private mutating func release(before now: EventTime?, into out: inout [CorrelationInput]) {
        while let head = waiting.first {
            // A partner is at most the window away, in either direction: a record that came
            // later than the lateness allows (time going back) also ends the wait, so that it
            // cannot hold everything behind it until time catches up.
            let expired = now.map { abs(($0 - head.record.time).micros) > window.micros } ?? false
            guard head.complete || expired else { break }
            if !head.complete {
                let profile = head.record.profileName
                unpaired[profile]?.removeFirst()
                if unpaired[profile]?.isEmpty ?? false { unpaired[profile] = nil }
            }
            out.append(Self.input(waiting.removeFirst()))
            firstSequence += 1
        }
    }

    /// Records waiting, partners included.
    var count: Int { waiting.reduce(0) { $0 + ($1.partner == nil ? 1 : 2) } }

    /// The records waiting, oldest first (for `--state`).
    var saved: [SavedWaiting] {
        waiting.map { SavedWaiting(record: SavedRecord($0.record), partner: $0.partner.map(SavedRecord.init), complete: $0.complete) }
    }

    /// Continues with these records waiting, as a saved pairer held them; those still without
    /// a partner are candidates again, per profile, oldest first.
    mutating func restore(_ saved: [SavedWaiting]) {
        waiting = Deque(saved.map { Waiting(record: $0.record.record, partner: $0.partner?.record, complete: $0.complete) })
        firstSequence = 0
        unpaired = [:]
        for (k, w) in waiting.enumerated() where !w.complete {
            unpaired[w.record.profileName, default: []].append(Candidate(w.record, sequence: k))
        }
    }

    private static func input(_ w: Waiting) -> CorrelationInput {
        switch w.record.kind {
        case .failed, .warning: .attempt(Attempt(w.record, w.partner))
        case .acquired: .acquired(w.record)
        case .released: .released(w.record)
        case .health: .health(w.record)
        }
    }
}
