// Correlation: lock records → attempts → episodes, escalations and notices.
// Nothing here knows of log formats or regexes; time is event time only.


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

    /// The key as one integer, for `IntMap`.
    var packed: UInt64 { UInt64(profileName.id) << 32 | UInt64(symbolName.id) }

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

    /// Builds an attempt from one record (a failed record or a warning).
    init(_ r: LockRecord) {
        time = r.time
        key = LockKey(profile: r.profileName, symbol: r.symbolName ?? Name.empty)
        owner = r.ownerName
        caller = r.callerName
        expires = r.expires
        host = r.hostName
        skipped = r.skipped
    }

    /// Builds an attempt from a failed record and a warning, paired (`first` the earlier):
    /// what the failed record says wins, what only the warning says fills in.
    init(_ first: LockRecord, _ second: LockRecord) {
        let (failed, warning) = first.kind == .failed ? (first, second) : (second, first)
        time = first.time
        key = LockKey(profile: first.profileName, symbol: failed.symbolName ?? warning.symbolName ?? Name.empty)
        owner = failed.ownerName ?? warning.ownerName
        caller = failed.callerName ?? warning.callerName
        expires = failed.expires ?? warning.expires
        host = first.hostName ?? second.hostName
        skipped = warning.skipped || failed.skipped
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
    private var waiting = Ring<Waiting>()
    /// The sequence number of `waiting.first`; records are numbered as they arrive.
    private var firstSequence = 0
    /// Per profile, its records still waiting for a partner, oldest first: a partner is looked
    /// for among a few, by what pairing compares, without touching the records themselves.
    private var unpaired = CandidateLists()

    fileprivate struct Candidate: Sendable {
        var sequence: Int
        var kind: RecordKind
        var time: EventTime
        var symbol: Name?
        var host: Name?
        /// The next candidate of the same profile (a slot), or -1.
        var next: Int32 = -1

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

    /// The candidates of every profile and kind (failed, warning) as lists linked through one
    /// slab: adding and removing one allocates nothing once the slab has grown to the most
    /// records ever waiting, and a record looking for its partner walks only the records of the
    /// other kind. A profile has its pair of lists while it has records waiting; the pair is
    /// then reused, so that memory follows the records waiting, not the profiles ever seen.
    fileprivate struct CandidateLists: Sendable {
        private var slab: [Candidate] = []
        private var free: Int32 = -1
        /// Per pair of lists (failed at 2 × pair, warning at 2 × pair + 1): first and last slot, or -1.
        private var ends: [(first: Int32, last: Int32)] = []
        /// The pair of each profile with records waiting, by the profile's id; pairs to reuse.
        private var pairs = IntMap<Int32>()
        private var freePairs: [Int32] = []

        @inline(__always) private static func list(_ pair: Int32, _ kind: RecordKind) -> Int {
            Int(pair) * 2 + (kind == .failed ? 0 : 1)
        }

        mutating func removeAll() { self = CandidateLists() }

        /// Appends a candidate to its profile's list of its kind.
        mutating func append(_ c: Candidate, profile: Name) {
            let pair: Int32
            if let known = pairs[profile.key] {
                pair = known
            } else {
                if let reused = freePairs.popLast() {
                    pair = reused
                } else {
                    pair = Int32(ends.count / 2)
                    ends.append((-1, -1))
                    ends.append((-1, -1))
                }
                pairs[profile.key] = pair
            }
            let p = Self.list(pair, c.kind)
            var c = c
            c.next = -1
            let slot: Int32
            if free >= 0 {
                slot = free
                free = slab[Int(slot)].next
                slab[Int(slot)] = c
            } else {
                slot = Int32(slab.count)
                slab.append(c)
            }
            if ends[p].last >= 0 { slab[Int(ends[p].last)].next = slot } else { ends[p].first = slot }
            ends[p].last = slot
        }

        /// Removes and returns the first candidate of the profile and kind that `accepts`, oldest first.
        mutating func remove(profile: Name, kind: RecordKind, where accepts: (Candidate) -> Bool) -> Candidate? {
            guard let pair = pairs[profile.key] else { return nil }
            let p = Self.list(pair, kind)
            var previous: Int32 = -1
            var slot = ends[p].first
            while slot >= 0 {
                let c = slab[Int(slot)]
                if accepts(c) {
                    if previous >= 0 { slab[Int(previous)].next = c.next } else { ends[p].first = c.next }
                    if ends[p].last == slot { ends[p].last = previous }
                    slab[Int(slot)].next = free
                    free = slot
                    if ends[Int(pair) * 2].first < 0 && ends[Int(pair) * 2 + 1].first < 0 {
                        pairs[profile.key] = nil
                        freePairs.append(pair)
                    }
                    return c
                }
                previous = slot
                slot = c.next
            }
            return nil
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
            let window = window
            if let c = unpaired.remove(profile: profile, kind: complement, where: {
                $0.pairs(with: r, complement: complement, window: window)
            }) {
                let at = c.sequence - firstSequence
                waiting[at].partner = r
                waiting[at].complete = true
            } else {
                waiting.append(Waiting(record: r, partner: nil, complete: false))
                unpaired.append(Candidate(r, sequence: firstSequence + waiting.count - 1), profile: profile)
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
        while let (complete, time, profile, kind) = waiting.withFirst({
            ($0.pointee.complete, $0.pointee.record.time, $0.pointee.record.profileName, $0.pointee.record.kind)
        }) {
            // A partner is at most the window away, in either direction: a record that came
            // later than the lateness allows (time going back) also ends the wait, so that it
            // cannot hold everything behind it until time catches up.
            let expired = now.map { abs(($0 - time).micros) > window.micros } ?? false
            guard complete || expired else { break }
            if !complete {
                // The head is the oldest candidate of its profile and kind: the first of its list.
                _ = unpaired.remove(profile: profile, kind: kind, where: { _ in true })
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
        waiting = Ring(saved.map { Waiting(record: $0.record.record, partner: $0.partner?.record, complete: $0.complete) })
        firstSequence = 0
        unpaired.removeAll()
        for (k, w) in waiting.enumerated() where !w.complete {
            unpaired.append(Candidate(w.record, sequence: k), profile: w.record.profileName)
        }
    }

    private static func input(_ w: Waiting) -> CorrelationInput {
        switch w.record.kind {
        case .failed, .warning: .attempt(w.partner.map { Attempt(w.record, $0) } ?? Attempt(w.record))
        case .acquired: .acquired(w.record)
        case .released: .released(w.record)
        case .health: .health(w.record)
        }
    }
}
