/// Pairs warnings with failed records into attempts (docs/semantics.md, "Attempts").
///
/// Records arrive in event-time order. A warning, or a failed record without a symbol, waits
/// up to the pair window for its partner: same profile, and the same symbol and host where
/// both carry them, in either order; each record pairs at most once, with the earliest
/// partner that fits. Other records wait behind it, so that the order downstream stays the
/// order of event time.
///
/// A failed record with its symbol decides its attempt alone (`LockRecord.decidesAlone`): it
/// is handed on as soon as nothing before it waits, and stays a partner for a warning until
/// the latest event time seen is more than the window past it. A warning that joins it then
/// adds only its skipped signal — in place while the attempt still waits behind another
/// record, else as a `.joined` input. The result is the same whatever the arrival rhythm: a
/// live pipe whose lines arrive with pauses gives what the file gives.
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
    /// Per profile, its records that may still pair, oldest first: a partner is looked for
    /// among a few, by what pairing compares, without touching the records themselves.
    private var unpaired = CandidateLists()
    /// The failed records that decide alone and may still be joined, oldest first: each is
    /// dropped from `unpaired` once the latest time is more than the window past it.
    private var joinable = Ring<(record: LockRecord, sequence: Int)>()
    /// The latest event time pushed.
    private var latest: EventTime?

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

        /// Whether `r` (of the same profile) may pair with this record, the latest time seen
        /// being `latest`: a failed record that decided alone may be joined only while the
        /// latest time is within the window of it (a record from far back cannot reach it).
        func pairs(with r: LockRecord, complement: RecordKind, window: TimeSpan, latest: EventTime) -> Bool {
            guard kind == complement, abs((r.time - time).micros) <= window.micros else { return false }
            if kind == .failed, symbol != nil, (latest - time).micros > window.micros { return false }
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

        /// Removes the candidate with this sequence number, if it is still there. A list is in
        /// sequence order, so the walk ends at the first later candidate.
        mutating func remove(profile: Name, kind: RecordKind, sequence: Int) {
            guard contains(profile: profile, kind: kind, sequence: sequence) else { return }
            _ = remove(profile: profile, kind: kind, where: { $0.sequence == sequence })
        }

        /// Whether the candidate with this sequence number is still there.
        func contains(profile: Name, kind: RecordKind, sequence: Int) -> Bool {
            guard let pair = pairs[profile.key] else { return false }
            var slot = ends[Self.list(pair, kind)].first
            while slot >= 0, slab[Int(slot)].sequence <= sequence {
                if slab[Int(slot)].sequence == sequence { return true }
                slot = slab[Int(slot)].next
            }
            return false
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
        latest = max(latest ?? r.time, r.time)
        expireJoinable()
        release(before: r.time, into: &out)
        if r.kind == .failed || r.kind == .warning {
            let complement: RecordKind = r.kind == .failed ? .warning : .failed
            let profile = r.profileName
            let window = window, latest = latest!
            if let c = unpaired.remove(profile: profile, kind: complement, where: {
                $0.pairs(with: r, complement: complement, window: window, latest: latest)
            }) {
                if c.sequence >= firstSequence {
                    let at = c.sequence - firstSequence
                    waiting[at].partner = r
                    waiting[at].complete = true
                } else if r.skipped {
                    // The failed record's attempt has gone on: the warning joins it there.
                    out.append(.joined(JoinedWarning(time: r.time, key: LockKey(profile: profile, symbol: c.symbol ?? Name.empty))))
                }
            } else {
                let sequence = firstSequence + waiting.count
                let alone = r.decidesAlone
                waiting.append(Waiting(record: r, partner: nil, complete: alone))
                unpaired.append(Candidate(r, sequence: sequence), profile: profile)
                if alone { joinable.append((r, sequence)) }
            }
        } else {
            waiting.append(Waiting(record: r, partner: nil, complete: true))
        }
        release(before: nil, into: &out)
    }

    /// Drops the joinable failed records the latest time has left more than the window behind.
    private mutating func expireJoinable() {
        guard let latest else { return }
        while let (time, profile, sequence) = joinable.withFirst({
            ($0.pointee.record.time, $0.pointee.record.profileName, $0.pointee.sequence)
        }), (latest - time).micros > window.micros {
            joinable.removeFirst()
            unpaired.remove(profile: profile, kind: .failed, sequence: sequence)
        }
    }

    /// Releases everything still waiting and forgets every partner (the end of the input).
    public mutating func flush() -> [CorrelationInput] {
        let out = releaseWaiting()
        unpaired.removeAll()
        joinable.removeAll()
        return out
    }

    /// Releases everything still waiting, partnerless or not (a live input silent for the pair
    /// window): the failed records already handed on may still be joined by a warning.
    public mutating func releaseWaiting() -> [CorrelationInput] {
        var out: [CorrelationInput] = []
        while let w = waiting.popFirst() {
            if !w.complete { unpaired.remove(profile: w.record.profileName, kind: w.record.kind, sequence: firstSequence) }
            out.append(Self.input(w))
            firstSequence += 1
        }
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
            if !complete { unpaired.remove(profile: profile, kind: kind, sequence: firstSequence) }
            out.append(Self.input(waiting.removeFirst()))
            firstSequence += 1
        }
    }

    /// Records waiting, partners included.
    var count: Int { waiting.reduce(0) { $0 + ($1.partner == nil ? 1 : 2) } }

    /// The records waiting, oldest first, and the failed records handed on that may still be
    /// joined (for `--state`).
    var saved: SavedPairer {
        SavedPairer(
            waiting: waiting.map { SavedWaiting(record: SavedRecord($0.record), partner: $0.partner.map(SavedRecord.init), complete: $0.complete) },
            joinable: joinable.filter {
                $0.sequence < firstSequence && unpaired.contains(profile: $0.record.profileName, kind: .failed, sequence: $0.sequence)
            }.map { SavedRecord($0.record) },
            latest: latest?.micros)
    }

    /// Continues with these records waiting, as a saved pairer held them: those still without
    /// a partner, and the failed records handed on that may still be joined, are candidates
    /// again, per profile, oldest first.
    mutating func restore(_ saved: SavedPairer) {
        self = AttemptPairer(window: window)
        latest = saved.latest.map { EventTime(micros: $0) }
        for (k, s) in saved.joinable.enumerated() {
            let r = s.record
            unpaired.append(Candidate(r, sequence: k), profile: r.profileName)
            joinable.append((r, k))
        }
        firstSequence = saved.joinable.count
        waiting = Ring(saved.waiting.map { Waiting(record: $0.record.record, partner: $0.partner?.record, complete: $0.complete) })
        for (k, w) in waiting.enumerated() where w.partner == nil && (!w.complete || w.record.decidesAlone) {
            unpaired.append(Candidate(w.record, sequence: firstSequence + k), profile: w.record.profileName)
            if w.record.decidesAlone { joinable.append((w.record, firstSequence + k)) }
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
