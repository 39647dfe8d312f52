// Correlation: lock records → attempts → episodes, escalations and notices.
// Nothing here knows of log formats or regexes; time is event time only.

import DequeModule

/// A lock key: contention is tracked per profile and symbol (empty when no record had one).
public struct LockKey: Hashable, Comparable, Sendable {
    public var profile: String
    public var symbol: String
    public init(profile: String, symbol: String) { self.profile = profile; self.symbol = symbol }
    public static func < (a: LockKey, b: LockKey) -> Bool { (a.profile, a.symbol) < (b.profile, b.symbol) }
}

/// One failed attempt to take the entry lock: a failed record, a warning, or both paired.
public struct Attempt: Equatable, Sendable {
    /// The time of its earliest record.
    public var time: EventTime
    public var key: LockKey
    public var owner: String?
    public var caller: String?
    public var expires: EventTime?
    public var host: String?
    /// Whether its warning said the trading loop skipped a signal.
    public var skipped: Bool

    public init(time: EventTime, key: LockKey, owner: String? = nil, caller: String? = nil,
                expires: EventTime? = nil, host: String? = nil, skipped: Bool = false) {
        self.time = time; self.key = key; self.owner = owner; self.caller = caller
        self.expires = expires; self.host = host; self.skipped = skipped
    }

    /// Builds an attempt from one record, or from a pair (the earlier first).
    init(_ first: LockRecord, _ second: LockRecord?) {
        let failed = first.kind == .failed ? first : (second?.kind == .failed ? second : nil)
        let warning = first.kind == .warning ? first : (second?.kind == .warning ? second : nil)
        time = first.time
        let symbol = failed?.symbol ?? warning?.symbol ?? ""
        key = LockKey(profile: first.profile, symbol: symbol)
        owner = failed?.owner ?? warning?.owner
        caller = failed?.caller ?? warning?.caller
        expires = failed?.expires ?? warning?.expires
        host = first.host ?? second?.host
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
    /// Per profile, the sequence numbers of its records still waiting for a partner, oldest first:
    /// a partner is looked for among a few, not among everything waiting.
    private var unpaired: [String: Deque<Int>] = [:]

    public init(window: TimeSpan) { self.window = window }

    /// Whether any record is waiting.
    public var isEmpty: Bool { waiting.isEmpty }

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
            if let candidates = unpaired[r.profile], let k = candidates.firstIndex(where: { seq in
                waiting[seq - firstSequence].record.kind == complement && pairable(waiting[seq - firstSequence].record, r)
            }) {
                let at = candidates[k] - firstSequence
                waiting[at].partner = r
                waiting[at].complete = true
                unpaired[r.profile]!.remove(at: k)
                if unpaired[r.profile]!.isEmpty { unpaired[r.profile] = nil }
            } else {
                waiting.append(Waiting(record: r, partner: nil, complete: false))
                unpaired[r.profile, default: []].append(firstSequence + waiting.count - 1)
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
            let expired = now.map { $0 - head.record.time > window } ?? false
            guard head.complete || expired else { break }
            if !head.complete {
                unpaired[head.record.profile]?.removeFirst()
                if unpaired[head.record.profile]?.isEmpty ?? false { unpaired[head.record.profile] = nil }
            }
            out.append(Self.input(waiting.removeFirst()))
            firstSequence += 1
        }
    }

    private func pairable(_ a: LockRecord, _ b: LockRecord) -> Bool {
        guard a.profile == b.profile, abs((b.time - a.time).micros) <= window.micros else { return false }
        if let s1 = a.symbol, let s2 = b.symbol, s1 != s2 { return false }
        if let h1 = a.host, let h2 = b.host, h1 != h2 { return false }
        return true
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
