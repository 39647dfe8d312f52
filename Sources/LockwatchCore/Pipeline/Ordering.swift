// Pipeline: the order in which records reach pairing and correlation — per host, merged
// across hosts by event time (docs/semantics.md, "Order and merging").

import HeapModule

/// Orders records for the correlator. Each host's records are ordered within `--max-lateness`
/// of the latest time seen from that host, and the hosts are merged by event time: a record is
/// released once every host that holds the others back has gone past it — the release point
/// is the slowest such host's latest time less the lateness. So one host whose entries arrive
/// late (an upload backlog) does not make the others' records late.
///
/// A host holds the others back while its latest time is within `--host-lag` of the leading
/// host's; one that falls further behind stops holding them (it is *lagging*: reported, and
/// its records that arrive behind the release point are counted late). A record without a
/// host belongs to the one host "without a name".
///
/// The hosts of a regular file may come one after another (a collector's journal exported to
/// a file), so reading files nothing is released before the end (`holding`): the result is
/// that of the per-host files merged. At most `maxHeld` records are held so; beyond that
/// (`overflowed`) the release point applies as on a live stream.
///
/// A record later than the lateness within its own host is *late*: it is not put back at its
/// time but goes out where it arrived — at its host's release point — as on a live stream.
struct Reorderer {
    let lateness: TimeSpan
    let hostLag: TimeSpan
    let maxHeld: Int
    /// Whether every record is held (see above).
    private(set) var holding: Bool

    /// A record held, with the place it is released at: its time, or for a record handled out
    /// of order, the release point it arrived at (`late`).
    struct Held: Equatable {
        var key: EventTime
        var late: Bool
        var record: LockRecord
        /// The order of release: by key, a record out of order after those in order at the
        /// same key, and otherwise as `LockRecord.precedes` says.
        @inline(__always) func before(_ b: Held) -> Bool {
            if key != b.key { return key < b.key }
            if late != b.late { return !late }
            return record.precedes(b.record)
        }
    }

    /// One host's progress.
    struct Host {
        var name: Name?
        /// The latest time of its lines (lock lines, and others as `observe` sees them).
        var latest: EventTime
        /// The latest time of its lock records (what "later than the lateness" is measured by,
        /// whatever the chunks the lines came in).
        var latestRecord: EventTime?
        /// Whether its lines last came more than `hostLag` behind the leading host's.
        var lagging = false
        /// Its records handled out of order (later than the lateness, or behind the release point).
        var late = 0
    }

    /// A host that started or stopped lagging, for the run to report.
    struct LagChange {
        var host: Name?
        var lagging: Bool
        /// How far its line trailed the leading host's.
        var behind: TimeSpan
        var leader: Name?
    }

    /// Each host's held records in release order (records of one host arrive nearly in
    /// order, so a record is appended, or inserted a short way from the end), and the hosts
    /// that hold any in a binary heap by their first record (`merge`), so that the hosts are
    /// merged at O(log hosts) comparisons a record. The heap moves host numbers, and a
    /// comparison reads the two first records' release keys (`fronts`), the records themselves
    /// only where the keys are equal.
    private var queues: [Ring<Held>] = []
    private var merge: [Int] = []
    /// Each host's place in `merge`, -1 while it holds no record.
    private var place: [Int] = []
    /// Each host's first held record's key (meaningful while it holds one).
    private var fronts: [EventTime] = []
    private(set) var count = 0

    private(set) var hosts: [Host] = []
    /// Each host's number, by `hostKey`.
    private var hostIndex = IntMap<Int>()
    /// A host's key in `hostIndex`: its name's, and one key for the host without a name.
    private static func hostKey(_ name: Name?) -> UInt64 { name?.key ?? UInt64(UInt32.max) }
    /// The latest time of any host, and its host.
    private var leader: EventTime?
    private var leaderHost = 0
    /// The earliest latest time of the hosts that hold the others back, and its host.
    private var slowest: EventTime?
    private var slowestHost = 0
    /// The latest key released so far.
    private var releasedUpTo: EventTime?
    /// Whether holding to the end gave way to the release point (more than `maxHeld`).
    private(set) var overflowed = false
    /// Records that came later than the lateness allows within their host, or behind the
    /// release point from a lagging host (handled out of order, counted).
    private(set) var late = 0
    /// Records within the lateness that came after a silent input had released later ones:
    /// handled out of order, counted.
    private(set) var lateAfterFlush = 0
    /// Hosts that started or stopped lagging since the run last looked.
    var lagChanges: [LagChange] = []

    init(lateness: TimeSpan, hostLag: TimeSpan = .seconds(10), holding: Bool = false, maxHeld: Int = 1 << 16) {
        self.lateness = lateness
        self.hostLag = hostLag
        self.holding = holding
        self.maxHeld = max(1, maxHeld)
    }

    /// The index of `name`'s host, known from now on.
    private mutating func host(_ name: Name?, at time: EventTime) -> Int {
        let id = name?.id ?? UInt32.max
        if id == lastHost.id { return lastHost.index }
        if let k = hostIndex[Self.hostKey(name)] {
            lastHost = (id, k)
            return k
        }
        hosts.append(Host(name: name, latest: time))
        addQueue()
        hostIndex[Self.hostKey(name)] = hosts.count - 1
        lastHost = (id, hosts.count - 1)
        return hosts.count - 1
    }

    /// The host looked up last (records of one host come in runs).
    private var lastHost: (id: UInt32, index: Int) = (UInt32.max - 1, -1)

    /// A line of host `h` came at `time`: whether the host lags is decided by how far this
    /// line trails the leading host (a host that is only quiet is not lagging: its next line is
    /// current). Reported when it changes.
    private mutating func arrived(_ h: Int, at time: EventTime) {
        guard !holding, let leader else { return }
        let behind = leader - time
        let lagging = behind > hostLag
        guard lagging != hosts[h].lagging else { return }
        hosts[h].lagging = lagging
        lagChanges.append(LagChange(host: hosts[h].name, lagging: lagging, behind: max(.zero, behind), leader: hosts[leaderHost].name))
    }

    mutating func push(_ r: LockRecord, into out: inout [LockRecord]) {
        let known = hosts.count
        let h = host(r.hostName, at: r.time)
        // A record late within its own host says nothing of how far behind the host is.
        if hosts[h].latestRecord.map({ $0 - r.time <= lateness }) ?? true { arrived(h, at: r.time) }
        var key = r.time
        var outOfOrder = false
        if let last = hosts[h].latestRecord, last - r.time > lateness {
            // Later than the lateness within its own host: out where it arrived.
            key = last - lateness
            outOfOrder = true
            late += 1
            hosts[h].late += 1
        }
        if let u = releasedUpTo, key < u {
            if !outOfOrder {
                if hosts[h].lagging { late += 1; hosts[h].late += 1 } else { lateAfterFlush += 1 }
            }
            key = u
            outOfOrder = true
        }
        insert(Held(key: key, late: outOfOrder, record: r), host: h)
        hosts[h].latestRecord = max(hosts[h].latestRecord ?? r.time, r.time)
        advance(h, to: r.time, new: hosts.count > known, into: &out)
    }

    /// A line of `host` (lock line or not) at `time`: the host has logged up to there. So a
    /// host that logs no lock line for a while still holds the others back — and is known to
    /// be current, not lagging — as long as its other lines come.
    mutating func observe(host name: Name?, at time: EventTime, into out: inout [LockRecord]) {
        let known = hosts.count
        let h = host(name, at: time)
        // The lines looked at are a chunk's last, seen after all of its records: one may trail
        // a later line of another host without having come late, so only a line that comes
        // within the bound says something (that a lagging host caught up).
        if hosts[h].lagging, let leader, leader - time <= hostLag { arrived(h, at: time) }
        advance(h, to: time, new: hosts.count > known, into: &out)
    }

    /// Host `h` has come to `time`: the hosts are brought up to date and what the release point
    /// has passed goes.
    private mutating func advance(_ h: Int, to time: EventTime, new: Bool, into out: inout [LockRecord]) {
        // A host seen for the first time may be the slowest now.
        let moved = time > hosts[h].latest || new
        if moved { hosts[h].latest = time }
        if holding {
            guard count >= maxHeld else { return }
            overflowed = true
            stopHolding(into: &out)
            return
        }
        // A host that did not move changes nothing but what a backlog still has to release.
        if moved || slowest == nil { updateHosts(changed: h) }
        guard let slowest else { return }
        release(upTo: slowest - lateness, into: &out, atMost: Self.releasedPerRecord)
    }

    /// What one record or line may release at most: a backlog (records held when holding
    /// gave way) goes on over the records that follow, in small batches, not in one.
    static let releasedPerRecord = 4096

    /// Ends `holding`: from now on records go at the release point.
    mutating func stopHolding(into out: inout [LockRecord]) {
        guard holding else { return }
        holding = false
        recomputeLeader()
        recomputeHosts()
        guard let slowest else { return }
        release(upTo: slowest - lateness, into: &out, atMost: Self.releasedPerRecord)
    }

    private mutating func insert(_ e: Held, host h: Int) {
        count += 1
        if let last = queues[h].last, e.before(last) {
            // From the end: a record out of order is a short way back among its host's.
            var at = queues[h].count - 1
            while at > 0, e.before(queues[h][at - 1]) { at -= 1 }
            queues[h].insert(e, at: at)
            if at == 0 {
                fronts[h] = e.key
                if merge.count > 1 { siftUp(place[h]) }
            }
        } else {
            queues[h].append(e)
            if queues[h].count == 1 {
                fronts[h] = e.key
                place[h] = merge.count
                merge.append(h)
                siftUp(merge.count - 1)
            }
        }
    }

    /// A host's empty queue, not in the heap.
    private mutating func addQueue() {
        queues.append(Ring())
        place.append(-1)
        fronts.append(EventTime(micros: 0))
    }

    /// Takes the first held record of all hosts out: that of host `merge[0]`.
    private mutating func takeFirst() -> Held {
        count -= 1
        let h = merge[0]
        assert(queues.indices.allSatisfy { queues[$0].isEmpty || !hostBefore($0, h) }, "the merge's first host holds the first record")
        let e = queues[h].removeFirst()
        if let next = queues[h].withFirst({ $0.pointee.key }) {
            fronts[h] = next
            if merge.count > 1 { siftDown(0) }
        } else {
            place[h] = -1
            let last = merge.removeLast()
            if !merge.isEmpty {
                merge[0] = last
                place[last] = 0
                siftDown(0)
            }
        }
        return e
    }

    /// Whether host `a`'s first record goes before host `b`'s: by key where the keys differ,
    /// otherwise as `Held.before` says.
    @inline(__always) private func hostBefore(_ a: Int, _ b: Int) -> Bool {
        let x = fronts[a], y = fronts[b]
        if x != y { return x < y }
        return queues[a].withFirst { p in queues[b].withFirst { q in p.pointee.before(q.pointee) }! }!
    }

    private mutating func siftUp(_ i: Int) {
        var i = i
        let h = merge[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard hostBefore(h, merge[parent]) else { break }
            merge[i] = merge[parent]
            place[merge[i]] = i
            i = parent
        }
        merge[i] = h
        place[h] = i
    }

    private mutating func siftDown(_ i: Int) {
        var i = i
        let h = merge[i]
        let n = merge.count
        while true {
            var child = 2 * i + 1
            guard child < n else { break }
            if child + 1 < n, hostBefore(merge[child + 1], merge[child]) { child += 1 }
            guard hostBefore(merge[child], h) else { break }
            merge[i] = merge[child]
            place[merge[i]] = i
            i = child
        }
        merge[i] = h
        place[h] = i
    }

    /// Brings the leader and the slowest holding host up to date after host `h`'s latest time
    /// moved. Every host is looked at only when the leader moved or `h` was the slowest;
    /// otherwise only `h` can have changed.
    private mutating func updateHosts(changed h: Int) {
        let t = hosts[h].latest
        if leader == nil || t > leader! {
            leader = t
            leaderHost = h
            recomputeHosts()
        } else if slowest == nil || h == slowestHost {
            recomputeHosts()
        } else if leader! - t <= hostLag, t < slowest! {
            // A host that did not hold the others back holds them again.
            slowest = t
            slowestHost = h
        }
    }

    /// Finds the leading host anew (after holding, or a restore).
    private mutating func recomputeLeader() {
        leader = nil
        for k in hosts.indices where leader == nil || hosts[k].latest > leader! { leader = hosts[k].latest; leaderHost = k }
    }

    /// A host holds the others back while its latest time is within `hostLag` of the leader's.
    private mutating func recomputeHosts() {
        guard let leader else { return }
        var low: EventTime?
        for k in hosts.indices where leader - hosts[k].latest <= hostLag {
            if low == nil || hosts[k].latest < low! { low = hosts[k].latest; slowestHost = k }
        }
        slowest = low
    }

    /// Releases the held records whose key is at most `point` (at most `limit` of them).
    private mutating func release(upTo point: EventTime, into out: inout [LockRecord], atMost limit: Int = .max) {
        var n = 0
        while n < limit, let h = merge.first, fronts[h] <= point {
            n += 1
            let e = takeFirst()
            releasedUpTo = max(releasedUpTo ?? e.key, e.key)
            out.append(e.record)
        }
    }

    /// A live input fell silent: each host has sent what it had, so records go up to the
    /// slowest holding host's latest time (every host's, once the input is `quiet`).
    mutating func idle(_ silence: Silence, into out: inout [LockRecord]) {
        stopHolding(into: &out)
        if silence >= .quiet { flush(into: &out); return }
        guard let slowest else { return }
        release(upTo: slowest, into: &out)
    }

    /// Releases everything (the end of the input).
    mutating func flush(into out: inout [LockRecord]) {
        out.reserveCapacity(out.count + count)
        release(upTo: EventTime(micros: .max), into: &out)
    }

    /// Gives back the memory of the hosts' queues that are empty (at the end of the input, so
    /// that the summary does not sit beside the largest they grew to).
    mutating func releaseEmptyQueues() {
        for h in queues.indices where queues[h].isEmpty { queues[h] = Ring() }
    }

    /// The latest time of any host's lines: how far the input has come.
    var latestTime: EventTime? { leader ?? hosts.map(\.latest).max() }

    /// The hosts lagging now, and how far each trails the leading host.
    var lagging: [(host: Name?, behind: TimeSpan)] {
        guard let leader else { return [] }
        return hosts.filter(\.lagging).map { ($0.name, leader - $0.latest) }
    }

    /// Whether `host` is lagging now.
    func isLagging(_ host: Name?) -> Bool {
        hostIndex[Self.hostKey(host)].map { hosts[$0].lagging } ?? false
    }

    /// What it holds (for `--state`).
    var saved: SavedReorderer {
        let held = queues.flatMap { $0 }.sorted { $0.before($1) }
        return SavedReorderer(maxSeen: leader?.micros, late: late, held: held.map { SavedRecord($0.record) },
                       releasedUpTo: releasedUpTo?.micros, lateAfterFlush: lateAfterFlush,
                       heldKeys: held.map { $0.late ? $0.key.micros : nil },
                       hosts: hosts.map { SavedHostOrder(name: $0.name?.string, latest: $0.latest.micros, latestRecord: $0.latestRecord?.micros,
                                                         lagging: $0.lagging, late: $0.late) })
    }

    /// Continues from what a saved reorderer held.
    mutating func restore(_ saved: SavedReorderer) {
        late = saved.late
        releasedUpTo = saved.releasedUpTo.map { EventTime(micros: $0) }
        lateAfterFlush = saved.lateAfterFlush ?? 0
        let keys = saved.heldKeys ?? []
        var entries: [Held] = []
        for (k, s) in saved.held.enumerated() {
            let r = s.record
            let key = k < keys.count ? keys[k] : nil
            entries.append(Held(key: key.map { EventTime(micros: $0) } ?? r.time, late: key != nil, record: r))
        }
        hosts = []
        hostIndex = IntMap()
        queues = []
        merge = []
        place = []
        fronts = []
        count = 0
        lastHost = (UInt32.max - 1, -1)
        for s in saved.hosts ?? [] {
            let name = s.name.map { Name($0) }
            hostIndex[Self.hostKey(name)] = hosts.count
            hosts.append(Host(name: name, latest: EventTime(micros: s.latest), latestRecord: s.latestRecord.map { EventTime(micros: $0) },
                              lagging: s.lagging ?? false, late: s.late))
            addQueue()
        }
        for e in entries.sorted(by: { $0.before($1) }) { insert(e, host: host(e.record.hostName, at: e.record.time)) }
        recomputeLeader()
        // A state of an earlier lockwatch kept one latest time for all records: the leader's.
        if hosts.isEmpty, let m = saved.maxSeen { leader = EventTime(micros: m) }
        recomputeHosts()
        lagChanges.removeAll()
        // A continued stream is past its backlog.
        holding = false
    }
}

/// Merges several inputs into one timeline by event time (not concatenation).
struct Merger {
    struct Head: Comparable {
        var record: LockRecord
        var stream: Int
        static func < (a: Head, b: Head) -> Bool { a.record.precedes(b.record) }
        static func == (a: Head, b: Head) -> Bool { !a.record.precedes(b.record) && !b.record.precedes(a.record) }
    }

    let streams: [InputStream]
    private var heads = Heap<Head>()
    /// The streams whose first record is in `heads` (or that ended): the first `primed`.
    private var primed = 0
    /// The head taken, whose stream is being read for its next record before it goes on.
    private var taken: Head?

    init(streams: [InputStream]) { self.streams = streams }

    /// The next record of the merged timeline, or a moment of one of the inputs, in the
    /// order they happen: a stream's moments (a boundary, an idle) are handed on while it is
    /// read for its next record, before the record taken from it goes on. nil at the end.
    mutating func next() -> InputEvent? {
        if streams.count == 1 { return streams[0].next() }
        while primed < streams.count {
            switch streams[primed].next() {
            case .record(let r)?: heads.insert(Head(record: r, stream: primed)); primed += 1
            case nil: primed += 1
            case let moment?: return moment
            }
        }
        if taken == nil {
            guard let head = heads.popMin() else { return nil }
            taken = head
        }
        let k = taken!.stream
        switch streams[k].next() {
        case .record(let r)?: heads.insert(Head(record: r, stream: k))
        case nil: break
        case let moment?: return moment
        }
        defer { taken = nil }
        return .record(taken!.record)
    }
}

extension LockRecord {
    /// The order of the timeline (docs/semantics.md, "Order and merging"): by event time; at
    /// equal times, records of one input in line order, and records of different inputs by
    /// what they contain — host, kind, profile, symbol, holder, caller, expiry, latency,
    /// skipped signal — never by the order in which the inputs were named. (Records equal in
    /// all of that give the same findings in either order.)
    @inline(__always) func precedes(_ b: LockRecord) -> Bool {
        if time != b.time { return time < b.time }
        let o = origin, p = b.origin
        if o.input == p.input { return o.line < p.line }
        return Self.contentPrecedes(self, b) ?? (o.input < p.input)
    }

    /// Compares two records by their contents; nil when they are the same. Names are
    /// compared by id first (equal ids, equal texts) and by their bytes only where they differ.
    private static func contentPrecedes(_ a: LockRecord, _ b: LockRecord) -> Bool? {
        @inline(__always) func order(_ x: Name?, _ y: Name?) -> Bool? {
            if x == y { return nil }
            guard let x, let y else { return x == nil }
            return NameTable.shared.precedes(x, y)
        }
        if let o = order(a.hostName, b.hostName) { return o }
        if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        if let o = order(a.profileName, b.profileName) ?? order(a.symbolName, b.symbolName)
            ?? order(a.ownerName, b.ownerName) ?? order(a.callerName, b.callerName) { return o }
        if a.expires != b.expires { return (a.expires?.micros ?? .min) < (b.expires?.micros ?? .min) }
        if a.latency != b.latency { return (a.latency ?? -1) < (b.latency ?? -1) }
        if a.skipped != b.skipped { return !a.skipped }
        let (h, k) = (a.health, b.health)
        if h != k {
            func rank(_ r: HealthReport?) -> [Int] {
                guard let r else { return [] }
                func flag(_ v: Bool?) -> Int { v.map { $0 ? 2 : 1 } ?? 0 }
                return [r.lockContentionCount ?? Int.min, flag(r.tradingLoopHealthy), flag(r.reconciliationLoopHealthy)]
            }
            return rank(h).lexicographicallyPrecedes(rank(k))
        }
        return nil
    }
}

