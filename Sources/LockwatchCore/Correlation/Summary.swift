/// The end-of-run account (docs/semantics.md, "Output").
public struct Summary: Equatable, Sendable {
    /// A holder of one key: its name and what the key's failures said of it.
    @dynamicMemberLookup
    public struct Owner: Equatable, Sendable {
        /// The holder, as a name: its text is made only when it is written (a storm of a
        /// token per acquisition has hundreds of thousands of holders).
        public var name: Name
        public var stats: OwnerStats

        public var owner: String { name.string }

        public init(name: Name, stats: OwnerStats) { self.name = name; self.stats = stats }
        public init(owner: String, stats: OwnerStats) { self.init(name: Name(owner), stats: stats) }

        public subscript<T>(dynamicMember path: KeyPath<OwnerStats, T>) -> T { stats[keyPath: path] }
    }

    public struct Symbol: Equatable, Sendable {
        public var symbol: String
        public var failures: Int
        public var skippedSignals: Int
        public var episodes: Int
        public var escalations: Int
        public var maxContention: TimeSpan
        public var owners: [Owner]
        public var state: EpisodeState
        /// Whether an escalation named this key: its own (persistent, stale_lock), or a
        /// multi_profile one while the key's episode was active.
        public var escalated = false
    }

    public struct Profile: Equatable, Sendable {
        public var profileID: String
        public var failures: Int
        public var skippedSignals: Int
        public var episodes: Int
        public var escalated: Bool
        public var symbols: [Symbol]
    }

    public struct Host: Equatable, Sendable {
        public var host: String
        public var health: HealthReport
        /// How many times a loop of the host reported unhealthy, and the latest of those
        /// periods (at most `HostSpells.kept`), in order.
        public var unhealthySpells = 0
        public var unhealthy: [UnhealthyPeriod] = []
    }

    /// What was read, and what was set aside and why (never silently).
    public struct Counts: Equatable, Sendable, Codable {
        /// Lines read, all inputs.
        public var lines = 0
        /// Lines recognised as records.
        public var matched = 0
        /// Lines that may be lock lines but could not be decoded (a line whose bytes show that no
        /// rule can match it is not decoded: `Matcher.mayMatch(line:)`).
        public var unparsed = 0
        /// Lines a rule matched that carried no profile id (not records, by the spec).
        public var noProfile = 0
        /// Lines cut at `--max-line-bytes`.
        public var truncated = 0
        /// Records that arrived later than `--max-lateness` allows.
        public var late = 0
        /// Records that arrived, within the lateness, after a live input's idle flush had
        /// released a later record.
        public var lateAfterFlush = 0
        /// Lines on which a rule hit PCRE2's match limit.
        public var limitExceeded = 0
        /// Records of a live stream that had never carried a time, stamped with the moment
        /// they were read.
        public var timeless = 0
        /// Records with no time of their own and no timed line before them on an input that
        /// is a file, or a stream that had carried a time: set aside.
        public var untimed = 0
        /// journald entries seen before (the same `__CURSOR`), counted once.
        public var duplicates = 0
        /// Lock records whose line starts with a date and time that is none (`2027-13-45`):
        /// without a time of their own.
        public var malformedTimes = 0
        /// Hosts whose records fell more than `--host-lag` behind the leading host's, or had
        /// records handled out of order.
        public var laggingHosts = 0
        /// Records of profiles that belong to other shards (`--shard`), not correlated here.
        public var otherShards = 0
        /// Inputs that could not be read (fully).
        public var inputErrors = 0
        /// Lock keys evicted to stay within `--max-keys` (their counts are not in the summary).
        public var evictedKeys = 0

        public init() {}

        public mutating func add(_ o: Counts) {
            lines += o.lines; matched += o.matched; unparsed += o.unparsed; noProfile += o.noProfile
            truncated += o.truncated; late += o.late; lateAfterFlush += o.lateAfterFlush; limitExceeded += o.limitExceeded
            timeless += o.timeless; untimed += o.untimed; duplicates += o.duplicates; malformedTimes += o.malformedTimes
            inputErrors += o.inputErrors; evictedKeys += o.evictedKeys; laggingHosts += o.laggingHosts
            otherShards += o.otherShards
        }

        private enum CodingKeys: String, CodingKey {
            case lines, matched, unparsed, noProfile, truncated, late, lateAfterFlush, limitExceeded, timeless, untimed, duplicates, malformedTimes
            case inputErrors, evictedKeys, laggingHosts, otherShards
        }

        /// Reads counts saved by any version: a count it did not keep yet is 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func read(_ k: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: k) ?? 0 }
            lines = try read(.lines); matched = try read(.matched); unparsed = try read(.unparsed)
            noProfile = try read(.noProfile); truncated = try read(.truncated); late = try read(.late)
            lateAfterFlush = try read(.lateAfterFlush)
            limitExceeded = try read(.limitExceeded); timeless = try read(.timeless); untimed = try read(.untimed)
            duplicates = try read(.duplicates); malformedTimes = try read(.malformedTimes); inputErrors = try read(.inputErrors); evictedKeys = try read(.evictedKeys)
            laggingHosts = try read(.laggingHosts)
            otherShards = try read(.otherShards)
        }
    }

    public var counts: Counts
    public var firstAt: EventTime?
    public var lastAt: EventTime?
    public var escalations: Int
    public var exit: Int32
    /// In the order of their ids' texts, each profile's symbols in the order of theirs (ids that
    /// print alike, by their bytes): `Correlator.summary` makes them so, and `keysBySeverity`
    /// lists equal keys in this order.
    public var profiles: [Profile]
    public var hosts: [Host]
}

extension Correlator {
    /// The summary of everything applied so far.
    public func summary(counts: Summary.Counts, firstAt: EventTime?, lastAt: EventTime?, exit: Int32) -> Summary {
        var counts = counts
        counts.evictedKeys = evicted
        // Keys in order of their texts, grouped by profile: indices only, no copies of the states
        // (with tens of thousands of keys the summary is the largest thing built).
        let order = failedKeysInTextOrder()
        var profiles: [Summary.Profile] = []
        var start = 0
        while start < order.count {
            let profile = keyOf[order[start]].profileName
            var end = start + 1
            while end < order.count, keyOf[order[end]].profileName == profile { end += 1 }
            let group = order[start..<end]
            let symbols = group.map { i -> Summary.Symbol in
                let ks = states[i]
                var longest = ks.longest
                if let ep = ks.episode { longest = max(longest, ep.lastFailure - ep.start) }
                // The holders are kept in the summary's order: their array is shared, not copied.
                return Summary.Symbol(symbol: keyOf[i].symbol, failures: ks.failures, skippedSignals: ks.skipped,
                                      episodes: ks.episodes, escalations: ks.escalations, maxContention: longest,
                                      owners: ks.owners, state: ks.state, escalated: ks.escalated)
            }
            profiles.append(Summary.Profile(profileID: profile.string, failures: symbols.reduce(0) { $0 + $1.failures },
                                            skippedSignals: symbols.reduce(0) { $0 + $1.skippedSignals },
                                            episodes: symbols.reduce(0) { $0 + $1.episodes },
                                            escalated: group.contains { states[$0].escalated }, symbols: symbols))
            start = end
        }
        let hostList = hosts.map { host, health in
            Summary.Host(host: host.string, health: health, unhealthySpells: spells[host]?.count ?? 0,
                         unhealthy: spells[host]?.periods ?? [])
        }.sorted { $0.host < $1.host }
        return Summary(counts: counts, firstAt: firstAt, lastAt: lastAt, escalations: escalations, exit: exit,
                       profiles: profiles, hosts: hostList)
    }

    /// The places of the keys with failures, in `LockKey`'s order: each distinct profile and
    /// symbol is ranked once by `textPrecedes`, and the keys are sorted by their two ranks
    /// (the profile's first), so that no key's text is made or read again.
    func failedKeysInTextOrder() -> [Int] {
        let failed = states.indices.filter { states[$0].failures > 0 }
        let profiles = Self.textRanks(failed.lazy.map { keyOf[$0].profileName })
        let symbols = Self.textRanks(failed.lazy.map { keyOf[$0].symbolName })
        return failed.map { i in
            (rank: UInt64(profiles[keyOf[i].profileName.key]!) << 32 | UInt64(symbols[keyOf[i].symbolName.key]!), place: i)
        }.sorted { $0.rank < $1.rank }.map(\.place)
    }

    /// Each distinct name's place among them in the order of their texts.
    static func textRanks<S: Sequence<Name>>(_ names: S) -> IntMap<Int> {
        var ranks = IntMap<Int>()
        var distinct: [Name] = []
        for n in names where ranks[n.key] == nil {
            ranks[n.key] = 0
            distinct.append(n)
        }
        for (n, r) in zip(distinct, NameTable.shared.textRanks(distinct)) { ranks[n.key] = Int(r) }
        return ranks
    }
}

// MARK: What mattered first (docs/semantics.md, "Output": the human outputs' order)

extension Summary {
    /// A lock key's part of the summary: its profile's id and its symbol's counts.
    public struct Key: Equatable, Sendable {
        public var profileID: String
        public var symbol: Symbol

        /// Transient: it never escalated, its episode is not open, and no contention of it
        /// lasted longer than one TTL.
        public func isTransient(ttl: TimeSpan) -> Bool {
            !symbol.escalated && symbol.state != .open && !outlasts(ttl)
        }

        /// Escalated by its own rule (persistent, stale_lock).
        public var escalatedByOwnRule: Bool { symbol.escalations > 0 }

        /// Escalated only because a multi_profile escalation swept it in.
        public var sweptIn: Bool { symbol.escalated && symbol.escalations == 0 }

        /// Contended for longer than one TTL (open or not).
        public func outlasts(_ ttl: TimeSpan) -> Bool { symbol.maxContention > ttl }

        /// Lasting: escalated by its own rule, or contended for longer than one TTL.
        public func lasts(_ ttl: TimeSpan) -> Bool { escalatedByOwnRule || outlasts(ttl) }

        /// Still open, and contended for longer than one TTL so far. (An open episode younger
        /// than that may yet prove transient: it ranks by its length like a closed one.)
        public func isLongOpen(ttl: TimeSpan) -> Bool { symbol.state == .open && outlasts(ttl) }

        /// Its rank in the order the human outputs list keys (lower first): escalated by its own
        /// rule, open for longer than one TTL, contended longer than one TTL, the rest (a key
        /// only swept into a multi_profile escalation among them: its own contention was brief).
        func tier(_ ttl: TimeSpan) -> Int {
            escalatedByOwnRule ? 0 : isLongOpen(ttl: ttl) ? 1 : outlasts(ttl) ? 2 : 3
        }

        /// Its severity, as the human outputs list keys (smaller first): by `tier`, then the
        /// longest contention first, then the most failures (`keysBySeverity` orders equal ones).
        func severity(ttl: TimeSpan) -> Severity {
            Severity(tier: tier(ttl), longest: -symbol.maxContention.micros, failures: -symbol.failures)
        }
    }

    /// A key's severity (`Key.severity`), compared field by field.
    struct Severity: Comparable {
        var tier: Int
        var longest: Int64
        var failures: Int

        static func < (a: Severity, b: Severity) -> Bool {
            (a.tier, a.longest, a.failures) < (b.tier, b.longest, b.failures)
        }
    }

    /// The keys a bounded list leaves out, as one line of totals: how many, in how many
    /// profiles, their failures and longest contention, and whether all were transient.
    public static func totals(of rest: ArraySlice<Key>, ttl: TimeSpan) -> String {
        let failures = rest.reduce(0) { $0 + $1.symbol.failures }
        let longest = rest.map(\.symbol.maxContention).max() ?? .zero
        // Told apart by their bytes, as the summary's profiles are (`String`'s equality would
        // merge ids that print alike).
        let profiles = Set(rest.map { Array($0.profileID.utf8) }).count
        let head = "\(rest.count) more \(rest.count == 1 ? "key" : "keys") in \(profiles) \(profiles == 1 ? "profile" : "profiles")"
        let failed = "\(failures) \(failures == 1 ? "failure" : "failures")"
        if rest.allSatisfy({ $0.isTransient(ttl: ttl) }) {
            return head + " with transient contention: \(failed), none longer than \(longest.description)s"
        }
        let (e, o) = (rest.count { $0.symbol.escalated }, rest.count { $0.symbol.state == .open })
        return head + " with contention (\(e) escalated, \(o) still open): \(failed), the longest \(longest.description)s"
    }

    /// The profiles with a key that `lasts`: a multi_profile escalation among none of them was
    /// an overlap of brief contention.
    public func lastingProfiles(ttl: TimeSpan) -> Set<String> {
        Set(profiles.filter { p in p.symbols.contains { Key(profileID: p.profileID, symbol: $0).lasts(ttl) } }.map(\.profileID))
    }

    /// The hosts whose loops reported unhealthy, most often first; equal ones by name.
    public var unhealthyHosts: [Host] {
        hosts.filter { $0.unhealthySpells > 0 }
            .sorted { $0.unhealthySpells != $1.unhealthySpells ? $0.unhealthySpells > $1.unhealthySpells : $0.host < $1.host }
    }

    /// Every key with a failure, in the order the human outputs list them: by `Key.severity`,
    /// equal ones in the summary's order (`profiles`: by profile id, then symbol).
    public func keysBySeverity(ttl: TimeSpan) -> [Key] {
        // Their severities and places are sorted, not the keys: with tens of thousands of keys,
        // moving each (its strings and holders retained and released) was most of the work.
        // The keys are made once, in their order.
        var order: [(severity: Severity, profile: Int32, symbol: Int32)] = []
        order.reserveCapacity(profiles.reduce(0) { $0 + $1.symbols.count })
        for (i, p) in profiles.enumerated() {
            for (j, s) in p.symbols.enumerated() {
                order.append((Key(profileID: p.profileID, symbol: s).severity(ttl: ttl), Int32(i), Int32(j)))
            }
        }
        order.sort { a, b in a.severity != b.severity ? a.severity < b.severity : (a.profile, a.symbol) < (b.profile, b.symbol) }
        return order.map { Key(profileID: profiles[Int($0.profile)].profileID, symbol: profiles[Int($0.profile)].symbols[Int($0.symbol)]) }
    }

    /// One holder's part in the run: the keys whose failures named it, and what they said of
    /// it over all of them (first and last failure, longest hold of one key).
    @dynamicMemberLookup
    public struct Holder: Equatable, Sendable {
        public var name: Name
        /// Keys whose failed attempts named it as the holder.
        public var keys: Int
        public var stats: OwnerStats

        public var owner: String { name.string }

        public subscript<T>(dynamicMember path: KeyPath<OwnerStats, T>) -> T { stats[keyPath: path] }

        /// Named by more than one failure: one failure of one key says nothing the key does not.
        public var isNotable: Bool { keys > 1 || stats.failures > 1 }
    }

    /// The holders, those that held a key longer than one TTL first (longest first), then
    /// those that blocked the most keys, then the most failures; equal ones by name.
    public func holders(ttl: TimeSpan) -> [Holder] {
        // Names are small dense integers: per name, its holder's place in `all` (-2: not
        // yet placed), in an array rather than a hash table, and `all` made to its size, with
        // hundreds of thousands of holders (a token per acquisition) in a storm.
        let owners = profiles.lazy.flatMap(\.symbols).flatMap(\.owners)
        var place = [Int32](repeating: -1, count: Int(owners.map(\.name.id).max() ?? 0) + 1)
        var distinct = 0
        for o in owners where place[Int(o.name.id)] == -1 {
            place[Int(o.name.id)] = -2
            distinct += 1
        }
        var all: [Holder] = []
        all.reserveCapacity(distinct)
        for o in owners {
            var i = Int(place[Int(o.name.id)])
            if i < 0 {
                i = all.count
                place[Int(o.name.id)] = Int32(i)
                all.append(Holder(name: o.name, keys: 0, stats: OwnerStats()))
            }
            all[i].keys += 1
            all[i].stats.add(o.stats)
        }
        // Equal ones go by their names' texts, ranked once (most holders are equal: one
        // failure of one key), kept where their places were.
        for (h, r) in zip(all, NameTable.shared.textRanks(all.map(\.name))) { place[Int(h.name.id)] = r }
        all.sort { a, b in
            let (x, y) = (a.longest > ttl, b.longest > ttl)
            if x != y { return x }
            if x && a.longest != b.longest { return a.longest > b.longest }
            return a.keys != b.keys ? a.keys > b.keys : a.failures != b.failures ? a.failures > b.failures
                : place[Int(a.name.id)] < place[Int(b.name.id)]
        }
        return all
    }
}
