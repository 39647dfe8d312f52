import LockwatchTestSupport
import Testing
@testable import LockwatchCore

let t0 = EventTime(micros: base)
func at(_ s: Double) -> EventTime { t0 + .seconds(s) }

/// A compact step for transition tables.
enum Step {
    case fail(Double, String, String = "ETH", owner: String? = "w1", caller: String? = "w2", expiresIn: Double? = nil)
    case acquired(Double, String, String = "ETH")
    case health(Double, String, trading: Bool?, reconciliation: Bool?)

    var input: CorrelationInput {
        switch self {
        case let .fail(s, p, sym, owner, caller, expiresIn):
            return .attempt(Attempt(time: at(s), key: LockKey(profile: p, symbol: sym), owner: owner.map { Name($0) }, caller: caller.map { Name($0) },
                                    expires: expiresIn.map { at(s + $0) }))
        case let .acquired(s, p, sym):
            return .acquired(LockRecord(kind: .acquired, time: at(s), profile: p, symbol: sym))
        case let .health(s, host, trading, reconciliation):
            return .health(LockRecord(kind: .health, time: at(s), profile: "", host: host,
                                      health: HealthReport(tradingLoopHealthy: trading, reconciliationLoopHealthy: reconciliation)))
        }
    }
}

/// A short name per alert, for readable tables.
func label(_ a: Alert) -> String {
    switch a {
    case .contentionStarted(let at, let key, _, _, _): return "start \(key.profile) \((at - t0).description)"
    case .escalation(let e): return "\(e.reason.rawValue) \(e.key?.profile ?? e.profiles.joined(separator: "+")) \((e.at - t0).description)"
    case .ownerStuck(let at, let key, let owner, _, _): return "stuck \(key.profile) \(owner) \((at - t0).description)"
    case .recovered(let at, let key, _, let d, let n, let esc): return "recovered \(key.profile) \((at - t0).description) \(d.description)s \(n)\(esc ? " esc" : "")"
    case .loopUnhealthy(let at, let host, let loop): return "unhealthy \(host) \(loop.rawValue) \((at - t0).description)"
    }
}

func run(_ steps: [Step], _ thresholds: Thresholds = Thresholds()) -> (alerts: [String], correlator: Correlator) {
    var c = Correlator(thresholds: thresholds)
    var out: [String] = []
    for s in steps { out += c.apply(s.input).map(label) }
    return (out, c)
}

@Suite struct CorrelatorTests {
    static let table: [(String, [Step], [String])] = [
        ("a failure opens an episode", [.fail(0, "A")], ["start A 0"]),
        ("recovery closes it with its duration", [.fail(0, "A"), .fail(10, "A"), .acquired(25, "A")],
         ["start A 0", "recovered A 25 25s 2"]),
        ("acquired without an episode says nothing", [.acquired(5, "A")], []),
        ("90 s after the start does not escalate", [.fail(0, "A", owner: nil), .fail(30, "A", owner: nil), .fail(60, "A", owner: nil), .fail(90, "A", owner: nil)],
         ["start A 0"]),
        ("91 s after the start does", [.fail(0, "A", owner: nil), .fail(30, "A", owner: nil), .fail(60, "A", owner: nil), .fail(91, "A", owner: nil), .fail(100, "A", owner: nil)],
         ["start A 0", "persistent A 91"]),
        ("a lone failure just past the gap opens a new episode instead of escalating",
         [.fail(0, "A", owner: nil), .fail(90.001, "A", owner: nil)], ["start A 0", "start A 90.001"]),
        ("a gap over 3 TTL closes quiet and opens anew", [.fail(0, "A", owner: nil), .fail(80, "A", owner: nil), .fail(171, "A", owner: nil), .fail(200, "A", owner: nil)],
         ["start A 0", "start A 171"]),
        ("exactly the gap keeps the episode", [.fail(0, "A", owner: nil), .fail(90, "A", owner: nil), .fail(91, "A", owner: nil)],
         ["start A 0", "persistent A 91"]),
        ("stale lock: 2 s past expiry is within grace", [.fail(0, "A", expiresIn: -2)], ["start A 0"]),
        ("stale lock: beyond grace fires once", [.fail(0, "A", expiresIn: -2.5), .fail(5, "A", expiresIn: -9)],
         ["start A 0", "stale_lock A 0"]),
        ("two profiles within a TTL", [.fail(0, "A"), .fail(30, "B")], ["start A 0", "start B 30", "multi_profile A+B 30"]),
        ("two profiles more than a TTL apart", [.fail(0, "A"), .fail(30.001, "B")], ["start A 0", "start B 30.001"]),
        ("multi_profile fires once per incident, again after it ends",
         [.fail(0, "A"), .fail(5, "B"), .fail(10, "A"), .acquired(11, "A"), .acquired(12, "B"), .fail(60, "C"), .fail(61, "A")],
         ["start A 0", "start B 5", "multi_profile A+B 5", "recovered A 11 11s 2 esc", "recovered B 12 7s 1 esc",
          "start C 60", "start A 61", "multi_profile A+C 61"]),
        ("a recovered profile is no longer active", [.fail(0, "A"), .acquired(1, "A"), .fail(2, "B")],
         ["start A 0", "recovered A 1 1s 1", "start B 2"]),
        ("a profile stays active through another open symbol",
         [.fail(0, "A", "ETH"), .fail(5, "A", "BTC"), .acquired(6, "A", "ETH"), .fail(10, "B")],
         ["start A 0", "start A 5", "recovered A 6 6s 1", "start B 10", "multi_profile A+B 10"]),
        ("but not through one whose last failure left the window",
         [.fail(0, "A", "ETH", owner: nil), .fail(1, "A", "BTC", owner: nil), .fail(35, "A", "BTC", owner: nil),
          .acquired(36, "A", "BTC"), .fail(37, "B", owner: nil)],
         ["start A 0", "start A 1", "recovered A 36 35s 2", "start B 37"]),
        ("owner stuck when one owner spans more than a TTL", [.fail(0, "A"), .fail(30, "A"), .fail(31, "A"), .fail(50, "A")],
         ["start A 0", "stuck A w1 31"]),
        ("symbols of one profile are separate keys", [.fail(0, "A", "ETH"), .fail(1, "A", "BTC"), .acquired(2, "A", "ETH")],
         ["start A 0", "start A 1", "recovered A 2 2s 1"]),
        ("an acquisition after the gap is no recovery", [.fail(0, "A"), .acquired(100, "A")], ["start A 0"]),
        ("a failure from an hour before the latest (time went back) does not make its profile active",
         [.fail(3600, "A"), .fail(0, "B"), .fail(1, "B")], ["start A 3600", "start B 0"]),
        ("health reports a loop once per change",
         [.health(0, "h1", trading: false, reconciliation: true), .health(1, "h1", trading: false, reconciliation: false),
          .health(2, "h1", trading: true, reconciliation: false), .health(3, "h1", trading: false, reconciliation: nil)],
         ["unhealthy h1 trading 0", "unhealthy h1 reconciliation 1", "unhealthy h1 trading 3"]),
    ]

    @Test(arguments: table.indices)
    func transition(_ i: Int) {
        let (name, steps, expected) = Self.table[i]
        #expect(run(steps).alerts == expected, "\(name)")
    }

    /// A full table evicts closed episodes first, then the longest silent open ones; the
    /// evictions are counted and the kept keys still add up.
    @Test func maxKeysEvictsClosedEpisodesFirst() {
        var c = Correlator(thresholds: Thresholds(), maxKeys: 3)
        for s in [Step.fail(0, "A"), .fail(1, "B"), .acquired(2, "B"), .fail(3, "C"), .fail(4, "D")] { _ = c.apply(s.input) }
        var summary = c.summary(counts: .init(), firstAt: nil, lastAt: nil, exit: 0)
        #expect(summary.profiles.map(\.profileID) == ["A", "C", "D"], "B, recovered, went first")
        #expect(summary.counts.evictedKeys == 1)
        for s in [Step.fail(5, "C"), .fail(6, "D"), .fail(7, "E")] { _ = c.apply(s.input) }
        summary = c.summary(counts: .init(), firstAt: nil, lastAt: nil, exit: 0)
        #expect(summary.profiles.map(\.profileID) == ["C", "D", "E"], "then A, open but silent longest")
        #expect(summary.counts.evictedKeys == 2)
        // An evicted open episode no longer counts as active: only C, D and E are.
        #expect(c.activity.count == 3)
    }

    @Test func thresholdsAreFlags() {
        var t = Thresholds()
        t.ttl = .seconds(10)
        t.escalateAfter = 2
        #expect(run([.fail(0, "A", owner: nil), .fail(20, "A", owner: nil), .fail(20.5, "A", owner: nil)], t).alerts
                == ["start A 0", "persistent A 20.5"])
        t.multiProfile = 3
        #expect(run([.fail(0, "A", owner: nil), .fail(1, "B", owner: nil)], t).alerts == ["start A 0", "start B 1"])
        #expect(t.episodeGap == .seconds(30))
    }

    @Test func summaryCountsAndStates() {
        var (_, c) = run([.fail(0, "A", owner: "w2", caller: "w2"), .fail(5, "A", owner: "w1"), .acquired(6, "A"),
                          .fail(10, "B"), .fail(200, "C")])
        c.finish(at: at(200))
        let s = c.summary(counts: Summary.Counts(), firstAt: at(0), lastAt: at(200), exit: 0)
        #expect(s.profiles.map(\.profileID) == ["A", "B", "C"])
        let a = s.profiles[0].symbols[0]
        #expect(a.failures == 2 && a.state == .recovered && a.maxContention == .seconds(6))
        #expect(a.owners == [Summary.Owner(owner: "w1", stats: OwnerStats(failures: 1, selfHeld: false, first: at(5), last: at(5))),
                             Summary.Owner(owner: "w2", stats: OwnerStats(failures: 1, selfHeld: true, first: at(0), last: at(0)))])
        #expect(s.profiles[1].symbols[0].state == .quiet)
        #expect(s.profiles[2].symbols[0].state == .open)
    }
}

@Suite struct AttemptPairerTests {
    func rec(_ kind: RecordKind, _ s: Double, _ p: String = "A", symbol: String? = nil, host: String? = nil,
             skipped: Bool = false) -> LockRecord {
        LockRecord(kind: kind, time: at(s), profile: p, symbol: symbol, owner: kind == .failed ? "w1" : nil,
                   host: host, skipped: skipped)
    }

    func attempts(_ records: [LockRecord], window: Double = 1) -> [Attempt] {
        var pairer = AttemptPairer(window: .seconds(window))
        var out: [CorrelationInput] = []
        for r in records { out += pairer.push(r) }
        out += pairer.flush()
        return out.compactMap { if case .attempt(let a) = $0 { return a } else { return nil } }
    }

    @Test func warningThenFailureIsOneAttemptAtTheEarlierTime() {
        let a = attempts([rec(.warning, 0, skipped: true), rec(.failed, 0.4, symbol: "ETH")])
        #expect(a.count == 1)
        #expect(a[0].time == at(0) && a[0].key.symbol == "ETH" && a[0].skipped && a[0].owner == "w1")
    }

    @Test func failureThenWarningPairsToo() {
        #expect(attempts([rec(.failed, 0, symbol: "ETH"), rec(.warning, 1, symbol: "ETH")]).count == 1)
    }

    @Test func beyondTheWindowTheyAreTwo() {
        let a = attempts([rec(.failed, 0, symbol: "ETH"), rec(.warning, 1.001)])
        #expect(a.map(\.key.symbol) == ["ETH", ""])
    }

    @Test func eachRecordPairsOnce() {
        #expect(attempts([rec(.warning, 0), rec(.warning, 0.2), rec(.failed, 0.5)]).count == 2)
        #expect(attempts([rec(.failed, 0), rec(.failed, 0.2), rec(.warning, 0.5)]).count == 2)
    }

    @Test func differentSymbolHostOrProfileDoNotPair() {
        #expect(attempts([rec(.failed, 0, symbol: "ETH"), rec(.warning, 0.1, symbol: "BTC")]).count == 2)
        #expect(attempts([rec(.failed, 0, host: "h1"), rec(.warning, 0.1, host: "h2")]).count == 2)
        #expect(attempts([rec(.failed, 0, "A"), rec(.warning, 0.1, "B")]).count == 2)
        #expect(attempts([rec(.failed, 0, host: "h1"), rec(.warning, 0.1)]).count == 1)
    }

    @Test func otherRecordsKeepTheirPlaceInTime() {
        var pairer = AttemptPairer(window: .seconds(1))
        var out = pairer.push(rec(.failed, 0))
        out += pairer.push(rec(.acquired, 0.5))
        #expect(out.isEmpty, "the acquisition waits behind the unpaired failure")
        out += pairer.push(rec(.warning, 0.6))
        #expect(out.map(\.time) == [at(0), at(0.5)])
    }

    /// A failed record with its symbol goes on at once; a warning after it — even once a live
    /// input's silence released everything — joins its attempt with its skipped signal.
    @Test func aWarningJoinsAFailureAlreadyHandedOn() {
        var pairer = AttemptPairer(window: .seconds(1))
        var out = pairer.push(rec(.failed, 0, symbol: "ETH"))
        #expect(out.count == 1, "the failed record decides alone")
        out += pairer.releaseWaiting()
        out += pairer.push(rec(.warning, 0.5, symbol: "ETH", skipped: true))
        out += pairer.push(rec(.warning, 0.6, symbol: "ETH", skipped: true))
        #expect(out.count == 2, "the second warning waits: the failure is joined already")
        #expect(out[1] == .joined(JoinedWarning(time: at(0.5), key: LockKey(profile: "A", symbol: "ETH"))))
        var c = Correlator(thresholds: Thresholds())
        for i in out + pairer.flush() { _ = c.apply(i) }
        let s = c.summary(counts: Summary.Counts(), firstAt: nil, lastAt: nil, exit: 0)
        #expect(s.profiles.map(\.failures) == [2] && s.profiles.map(\.skippedSignals) == [2])
    }

    /// The pairing rule written plainly (docs/semantics.md, "Attempts"): every record in one
    /// list; a record pairs with the earliest record of the other kind that fits and is still
    /// waiting — or, for a warning, with a failed record that decided alone and that the
    /// latest time has not left more than the window behind (it then adds its skipped signal).
    struct ReferencePairer {
        let window: TimeSpan
        var waiting: [(record: LockRecord, partner: LockRecord?, complete: Bool)] = []
        /// Failed records that decided alone, already handed on, not joined yet.
        var handedOn: [LockRecord] = []
        var out: [CorrelationInput] = []
        var latest: EventTime?

        func fits(_ w: LockRecord, _ r: LockRecord, _ complement: RecordKind) -> Bool {
            w.profileName == r.profileName && w.kind == complement
                && abs((r.time - w.time).micros) <= window.micros
                && (w.symbolName == nil || r.symbolName == nil || w.symbolName == r.symbolName)
                && (w.hostName == nil || r.hostName == nil || w.hostName == r.hostName)
        }

        mutating func push(_ r: LockRecord) {
            latest = max(latest ?? r.time, r.time)
            handedOn.removeAll { (latest! - $0.time).micros > window.micros }
            release(before: r.time)
            if r.kind == .failed || r.kind == .warning {
                let complement: RecordKind = r.kind == .failed ? .warning : .failed
                let inWaiting = waiting.indices.first { j in
                    let w = waiting[j]
                    guard w.partner == nil, fits(w.record, r, complement) else { return false }
                    return !w.complete || (w.record.decidesAlone && (latest! - w.record.time).micros <= window.micros)
                }
                let handed = r.kind == .warning
                    ? handedOn.firstIndex { fits($0, r, complement) && (latest! - $0.time).micros <= window.micros }
                    : nil
                // The earliest of the two: every handed-on record came before every waiting one.
                if let h = handed {
                    let f = handedOn.remove(at: h)
                    if r.skipped {
                        out.append(.joined(JoinedWarning(time: r.time, key: LockKey(profile: r.profileName, symbol: f.symbolName!))))
                    }
                } else if let j = inWaiting {
                    waiting[j].partner = r
                    waiting[j].complete = true
                } else {
                    waiting.append((r, nil, r.decidesAlone))
                }
            } else {
                waiting.append((r, nil, true))
            }
            release(before: nil)
        }

        mutating func release(before now: EventTime?) {
            while let head = waiting.first {
                let expired = now.map { abs(($0 - head.record.time).micros) > window.micros } ?? false
                guard head.complete || expired else { break }
                waiting.removeFirst()
                if head.partner == nil, head.record.decidesAlone { handedOn.append(head.record) }
                out.append(Self.input(head.record, head.partner))
            }
        }

        mutating func flush() {
            for w in waiting { out.append(Self.input(w.record, w.partner)) }
            waiting = []
            handedOn = []
        }

        static func input(_ r: LockRecord, _ partner: LockRecord?) -> CorrelationInput {
            switch r.kind {
            case .failed, .warning: .attempt(partner.map { Attempt(r, $0) } ?? Attempt(r))
            case .acquired: .acquired(r)
            case .released: .released(r)
            case .health: .health(r)
            }
        }
    }

    @Test func pairsAsThePlainRuleDoes() {
        var g = TestRandom()
        let kinds: [RecordKind] = [.failed, .failed, .warning, .warning, .acquired]
        for round in 0..<3_000 {
            var t = 0.0
            var records: [LockRecord] = []
            for _ in 0..<Int.random(in: 1...40, using: &g) {
                t += Bool.random(using: &g) ? Double.random(in: 0...0.6, using: &g) : 0
                if Int.random(in: 0..<30, using: &g) == 0 { t -= 5 }
                records.append(rec(kinds.randomElement(using: &g)!, t, ["A", "B", "C"].randomElement(using: &g)!,
                                   symbol: [nil, "ETH", "BTC"].randomElement(using: &g)!,
                                   host: [nil, nil, "h1", "h2"].randomElement(using: &g)!))
            }
            var pairer = AttemptPairer(window: .seconds(1))
            var got: [CorrelationInput] = []
            for r in records { got += pairer.push(r) }
            got += pairer.flush()
            var want = ReferencePairer(window: .seconds(1))
            for r in records { want.push(r) }
            want.flush()
            #expect(got == want.out, "round \(round)")
            if got != want.out {
                for r in records { print("REC", r.kind, r.time.micros / 1000, r.profile, r.symbol ?? "-", r.host ?? "-") }
                for g in got { print("GOT", g) }
                for w in want.out { print("WANT", w) }
                break
            }
        }
    }

    /// A record from far back (later than the lateness allows) ends the wait of everything
    /// before it: nothing is held until time catches up, and memory stays flat.
    @Test func timeGoingBackEndsTheWait() {
        var pairer = AttemptPairer(window: .seconds(1))
        var out = pairer.push(rec(.failed, 3600))
        #expect(out.isEmpty)
        out += pairer.push(rec(.failed, 0))
        #expect(out.map(\.time) == [at(3600)])
        out += pairer.push(rec(.warning, 0.5))
        #expect(out.map(\.time) == [at(3600), at(0)], "the late pair is still one attempt")
    }
}

@Suite struct IntMapTests {
    /// Random inserts, updates and removals over a few keys that collide (small key range, keys
    /// spread and packed like lock keys) give what a Dictionary gives, through growth, removal's
    /// back-shifting and copies that must not share changes.
    @Test func behavesAsADictionary() {
        var g = TestRandom()
        for round in 0..<20 {
            var map = IntMap<Int>()
            var reference: [UInt64: Int] = [:]
            let range = UInt64(round % 2 == 0 ? 40 : 3000)
            var snapshot: (IntMap<Int>, [UInt64: Int])? = nil
            for step in 0..<20_000 {
                let id = UInt64.random(in: 0..<range, using: &g)
                let key = round % 3 == 0 ? id << 32 | (id * 7 % 5) : id
                switch Int.random(in: 0..<10, using: &g) {
                case 0..<5:
                    let v = Int.random(in: 0..<1000, using: &g)
                    map[key] = v; reference[key] = v
                case 5..<8:
                    map[key] = nil; reference[key] = nil
                default:
                    #expect(map[key] == reference[key])
                }
                if step == 10_000 { snapshot = (map, reference) }
                if step % 4096 == 0 {
                    #expect(map.count == reference.count)
                    #expect(Dictionary(uniqueKeysWithValues: map.entries.map { ($0.key, $0.value) }) == reference)
                }
            }
            #expect(map.count == reference.count)
            for k in 0..<range { #expect(map[k] == reference[k]) }
            if let (m, r) = snapshot {
                #expect(Dictionary(uniqueKeysWithValues: m.entries.map { ($0.key, $0.value) }) == r)
            }
            map.removeAll()
            #expect(map.isEmpty && map.entries.isEmpty && map[1] == nil)
        }
    }
}

/// The summary lists keys in the order of their profiles' and symbols' texts, and each key's
/// holders in the order of theirs, whatever order they came in: random failures over random
/// ids (ASCII, accents, combining marks, shared beginnings), against `String`'s `<`.
@Test func summaryListsKeysAndHoldersInTheOrderOfTheirTexts() {
    var g = TestRandom()
    let pieces = ["a", "b", "e", "z", "0", "-", "é", "e\u{301}", "ß", "7c2d"]
    func text(_ start: String) -> String { start + (0..<Int.random(in: 1...3, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined() }
    for _ in 0..<20 {
        let profiles = (0..<12).map { _ in text("p") }, symbols = (0..<4).map { _ in text("") }, owners = (0..<30).map { _ in text("w") }
        let steps = (0..<300).map { k in
            Step.fail(Double(k) * 0.01, profiles.randomElement(using: &g)!, symbols.randomElement(using: &g)!,
                      owner: owners.randomElement(using: &g)!, caller: nil)
        }
        let s = run(steps).correlator.summary(counts: Summary.Counts(), firstAt: at(0), lastAt: at(3), exit: 0)
        // (Two ids that print alike but differ in bytes are two profiles, next to each other.)
        let ids = s.profiles.map(\.profileID)
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 <= $1 }, "\(ids)")
        for p in s.profiles {
            let texts = p.symbols.map(\.symbol)
            #expect(zip(texts, texts.dropFirst()).allSatisfy { $0 <= $1 }, "\(texts)")
        }
        #expect(s.profiles.reduce(0) { $0 + $1.failures } == steps.count)
        for p in s.profiles {
            for sym in p.symbols {
                let names = sym.owners.map(\.owner)
                #expect(zip(names, names.dropFirst()).allSatisfy { $0 <= $1 }, "\(names)")
                #expect(Set(sym.owners.map(\.name)).count == names.count)
                #expect(sym.owners.reduce(0) { $0 + $1.failures } == sym.failures)
            }
        }
    }
}

/// The summary's order of names (`NameTable.textPrecedes`) is `String`'s `<` of their texts,
/// and its shortcut (`byteOrder`) decides most pairs: random texts of ASCII, NUL, accented
/// letters, combining marks (which change a letter before them once normalized) and UUID-like
/// ids. Texts that `String` holds equal but whose bytes differ go by their bytes.
@Test func namesOrderAsTheirTextsDo() {
    var g = TestRandom()
    let pieces = ["a", "b", "e", "f", "z", "A", "0", "9", "-", "_", "\u{0}", "é", "e\u{301}", "\u{301}", "ß", "Ω", "😀",
                  "7c2d", "4e8b-9a51-", "ffff"]
    // Shared beginnings, so that texts differ at many places, and just before a combining mark.
    let starts = ["", "abc", "abcdef", "abcdefg", "abcdefge", "7c2d-4e8"]
    let texts = (0..<3000).map { _ in
        starts.randomElement(using: &g)! + (0..<Int.random(in: 0...4, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
    }
    let table = NameTable.shared
    var decided = 0, equivalent = 0, words = 0
    for _ in 0..<200_000 {
        let a = texts.randomElement(using: &g)!, b = texts.randomElement(using: &g)!
        let (x, y) = (Name(a), Name(b))
        let (before, after) = (table.textPrecedes(x, y), table.textPrecedes(y, x))
        var (u, v) = (a, b)
        let bytes = u.withUTF8 { p in v.withUTF8 { q in NameTable.byteOrder(UnsafeRawBufferPointer(p), UnsafeRawBufferPointer(q)) } }
        if let bytes {
            decided += 1
            #expect(bytes == (a < b), "\(a.debugDescription) \(b.debugDescription)")
        }
        if let u = table.orderWord(x), let v = table.orderWord(y), u != v {
            words += 1
            #expect((u < v) == before, "\(a.debugDescription) \(b.debugDescription)")
        }
        if a != b {
            #expect(before == (a < b) && after == (b < a), "\(a.debugDescription) \(b.debugDescription)")
        } else if Array(a.utf8) != Array(b.utf8) {
            equivalent += 1
            #expect(before != after && before == table.precedes(x, y), "\(a.debugDescription) \(b.debugDescription)")
        } else {
            #expect(!before && !after)
        }
    }
    #expect(decided > 100_000, "\(decided) pairs decided by their bytes")
    #expect(equivalent > 0, "no pair of equivalent texts with different bytes")
    #expect(words > 50_000, "\(words) pairs decided by their words")
    // Ranks put a list (repeats included) in the order of textPrecedes.
    for _ in 0..<50 {
        let names = (0..<Int.random(in: 0...200, using: &g)).map { _ in Name(texts.randomElement(using: &g)!) }
        let ranks = table.textRanks(names)
        #expect(Set(ranks).count == names.count && ranks.allSatisfy { $0 >= 0 && Int($0) < names.count })
        let ordered = names.indices.sorted { ranks[$0] < ranks[$1] }.map { names[$0] }
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { !table.textPrecedes($1, $0) })
    }
}
