/// Which events the text output prints as lines of their own (docs/semantics.md, "Text output").
public enum TextEvents: String, Sendable, CaseIterable {
    /// Every event.
    case all
    /// Escalations (a multi_profile one only once one of its profiles is seen to last, and not
    /// when it repeats an earlier one), stuck owners, unhealthy loops, and recoveries after more
    /// than one TTL or of a key that escalated by its own rule; the rest is left to the summary,
    /// which counts it (docs/semantics.md, "Text output").
    case notable
}

/// Writes one readable line per event, and a readable summary at the end, what mattered most
/// first (docs/semantics.md, "Text output").
///
/// Colour only when asked (the command layer decides from the terminal, `--color` and
/// `NO_COLOR`). Text that came from a log line is escaped: no control character or terminal
/// escape sequence is ever written raw.
public final class TextPrinter: Sink {
    let out: ByteSink
    let color: Bool
    private var escalations: [Escalation] = []
    /// An event's line is built as bytes in this buffer (a storm prints a hundred thousand).
    private let bytes = ByteBuffer()
    private var day = RFC3339Day()
    private let names = EncodedNames { bytes, out in out.append(string: TextPrinter.escaped(String(decoding: bytes, as: UTF8.self))) }
    /// One TTL: an episode that recovered within it, without escalating, was transient.
    let ttl: TimeSpan
    let events: TextEvents
    /// The keys, escalations and hosts the summary lists in full (holders: at most 5, and 3 a
    /// key); nil: all of them.
    let limit: Int?
    /// Lines `events` left out: contention starts, recoveries within one TTL, and
    /// multi_profile escalations that repeat an earlier one.
    private var hiddenStarts = 0, hiddenRecoveries = 0, hiddenRepeats = 0
    /// Under `notable`, multi_profile escalations not printed because every profile they named
    /// recovered within one TTL, or because the input ended before any was seen to last.
    private var hiddenBrief = 0, hiddenUndecided = 0
    /// Under `notable`: multi_profile escalations waiting to be printed or left out, each with
    /// the profiles it named that have not yet recovered within one TTL; and the keys seen to
    /// last (a stuck owner, an escalation of their own) in their current episode.
    private var pending: [(escalation: Escalation, open: Set<String>)] = []
    private var lasting = Set<LockKey>()
    private var advicePrinted = false
    /// Under `notable`: the keys with a persistent or stale_lock escalation in their current
    /// episode, and the multi_profile escalations so far.
    private var keyEscalated = Set<LockKey>()
    private var multiProfile: MultiProfileRun
    /// Whether the last escalation repeated an earlier multi_profile one.
    private var lastRepeated = false

    /// How many keys (and escalations, hosts) the summary lists in full unless told otherwise:
    /// about one screen.
    public static let defaultLimit = 10

    /// The events printed unless told otherwise: notable ones in a batch run (every input a
    /// file), all of them in a live one.
    public static func defaultEvents(batch: Bool) -> TextEvents { batch ? .notable : .all }

    /// A batch run's printer, as the command makes it without `--events` and `--summary`.
    public static func batch(out: ByteSink, color: Bool, ttl: TimeSpan) -> TextPrinter {
        TextPrinter(out: out, color: color, ttl: ttl, events: defaultEvents(batch: true), limit: defaultLimit)
    }

    public init(out: ByteSink, color: Bool, ttl: TimeSpan = Thresholds().ttl, events: TextEvents = .all, limit: Int? = nil) {
        self.out = out
        self.color = color
        self.ttl = ttl
        self.events = events
        self.limit = limit.map { max(1, $0) }
        multiProfile = MultiProfileRun(ttl: ttl)
    }

    public var isClosed: Bool { out.isClosed }
    public func flush() { out.flush() }

    private func paint(_ s: String, _ code: String) -> String { Self.paint(s, code, when: color) }

    /// `s` in the SGR attributes `code` (`1;31`: bold red) when `on`; every coloured output
    /// of lockwatch goes through this, or through `sgr` for text built as bytes.
    public static func paint(_ s: String, _ code: String, when on: Bool) -> String {
        on ? sgr(code) + s + sgr("0") : s
    }

    /// The escape sequence that sets the SGR attributes `code` (`0` resets them).
    static func sgr(_ code: String) -> String { "\u{1B}[\(code)m" }

    /// Escapes control characters (C0, DEL, C1) so that log text cannot drive the terminal.
    public static func escaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F, 0x80..<0xA0:
                let hex = String(u.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private func keyText(_ key: LockKey) -> String {
        "profile=\(Self.escaped(key.profile)) symbol=\(key.symbol.isEmpty ? "-" : Self.escaped(key.symbol))"
    }

    public func emit(_ alert: Alert) {
        if case .escalation(let e) = alert {
            escalations.append(e)
            lastRepeated = multiProfile.repeats(e)
        }
        if events == .notable && !isNotable(alert) { return }
        line(alert)
    }

    private func line(_ alert: Alert) {
        bytes.removeAll()
        write(alert, into: bytes)
        bytes.withUnsafeBytes { out.write($0) }
    }

    /// Under `notable`: a profile of `key` is seen to last; the multi_profile escalations
    /// waiting on it are printed now, before the line that showed it.
    private func lasts(_ key: LockKey) {
        lasting.insert(key)
        let profile = key.profile
        let ready = pending.filter { $0.escalation.profiles.contains(profile) }
        guard !ready.isEmpty else { return }
        pending.removeAll { $0.escalation.profiles.contains(profile) }
        for p in ready { line(.escalation(p.escalation)) }
    }

    /// Under `notable`: an episode of `key` recovered within one TTL; a waiting multi_profile
    /// escalation all of whose profiles did so is left out.
    private func recoveredBriefly(_ key: LockKey) {
        let profile = key.profile
        for i in pending.indices.reversed() where pending[i].open.contains(profile) {
            pending[i].open.remove(profile)
            if pending[i].open.isEmpty { pending.remove(at: i); hiddenBrief += 1 }
        }
    }

    /// Under `notable`, whether the event is a line now; counts it where it is not. A recovery
    /// within one TTL is not, unless its key escalated by its own rule (persistent,
    /// stale_lock). A multi_profile escalation that repeats an earlier one
    /// (`MultiProfileRun`) is not; any other waits until one of its profiles is seen to last
    /// (a stuck owner, an escalation of its own, a recovery after more than one TTL), and is
    /// printed then, or is left out when all of them recover within one TTL or the input
    /// ends first. The summary lists every escalation.
    private func isNotable(_ alert: Alert) -> Bool {
        switch alert {
        case .contentionStarted(_, let key, _, _, _):
            // A new episode: an earlier one may have gone quiet.
            keyEscalated.remove(key)
            lasting.remove(key)
            hiddenStarts += 1
            return false
        case let .recovered(_, key, _, duration, _, _):
            let own = keyEscalated.remove(key) != nil
            lasting.remove(key)
            if duration > ttl { lasts(key) } else { recoveredBriefly(key) }
            if duration <= ttl && !own { hiddenRecoveries += 1; return false }
        case .escalation(let e):
            if let key = e.key { keyEscalated.insert(key); lasts(key); return true }
            if lastRepeated { hiddenRepeats += 1; return false }
            if e.isAmongBriefContention(Set(lasting.map(\.profile))) {
                pending.append((e, Set(e.profiles)))
                return false
            }
        case .ownerStuck(_, let key, _, _, _): lasts(key)
        case .loopUnhealthy: break
        }
        return true
    }

    /// The line of an event (an escalation's followed by the runbook's advice), built from
    /// bytes: times with the day kept, names escaped once, no String per event.
    private func write(_ alert: Alert, into b: ByteBuffer) {
        func text(_ s: StaticString) { b.append(s) }
        func painted(_ code: String, _ body: () -> Void) {
            if color { b.append(string: Self.sgr(code)) }
            body()
            if color { b.append(string: Self.sgr("0")) }
        }
        func name(_ n: Name?) { if let n { names.append(n, to: b) } else { text("-") } }
        func key(_ k: LockKey) {
            text(" profile="); names.append(k.profileName, to: b)
            text(" symbol="); name(k.symbolName == Name.empty ? nil : k.symbolName)
        }
        func decimal(_ v: Int) {
            if v < 0 { text("-") }
            appendDecimal(UInt64(v.magnitude), to: b)
        }
        alert.at.appendRFC3339(to: b, day: &day)
        text(" ")
        switch alert {
        case let .contentionStarted(_, k, owner, caller, host):
            painted("33") { text("contention started") }; key(k)
            text(" owner="); name(owner); text(" caller="); name(caller); text(" host="); name(host)
        case let .escalation(e):
            painted("1;31") { text("ESCALATION "); b.append(string: e.reason.rawValue) }
            text(" "); b.append(string: escalationSubject(e))
            text(" since="); e.since.appendRFC3339(to: b, day: &day)
            text(" ("); TimeSpan.appendSeconds((e.at - e.since).micros, to: b); text("s) failures="); decimal(e.failures)
            text(" owners=")
            if e.owners.isEmpty { text("-") } else { b.append(string: e.owners.map(Self.escaped).joined(separator: ",")) }
            text("\n")
            // Notable lines are read as a list: the advice once, at the first escalation printed.
            if events == .all || !advicePrinted {
                advicePrinted = true
                for advice in runbookAdvice { text("    - "); b.append(string: advice); text("\n") }
            }
            return
        case let .ownerStuck(_, k, owner, held, selfHeld):
            painted("35") { text("owner stuck") }; key(k)
            text(" owner="); name(owner); text(" held "); TimeSpan.appendSeconds(held.micros, to: b)
            // The runbook's advice is for another worker's lock; a worker that holds the row
            // itself is alive, and its own earlier attempt keeps the row.
            text(selfHeld ? "s (more than one TTL, by the caller itself: its earlier attempt did not release the row; wait for TTL expiry)"
                          : "s (more than one TTL: check the owner is alive, wait for TTL expiry)")
        case let .recovered(_, k, since, duration, failures, escalated):
            painted("32") { text("recovered") }; key(k)
            text(" after "); TimeSpan.appendSeconds(duration.micros, to: b)
            text("s since="); since.appendRFC3339(to: b, day: &day)
            text(" failures="); decimal(failures)
            if escalated { text(" (had escalated)") }
        case let .loopUnhealthy(_, host, loop):
            painted("31") { text("loop unhealthy") }; text(" host="); names.append(host, to: b)
            text(" loop="); b.append(string: loop.rawValue)
        }
        text("\n")
    }

    private func escalationSubject(_ e: Escalation) -> String {
        if let key = e.key { return keyText(key) }
        return "profiles=\(e.profiles.map(Self.escaped).joined(separator: ","))"
    }

    private func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }

    /// The first `limit` of `items` (all without a limit), and how many are left out.
    private func bounded<T>(_ items: [T], _ limit: Int?) -> (shown: ArraySlice<T>, more: Int) {
        let shown = items.prefix(limit ?? items.count)
        return (shown, items.count - shown.count)
    }

    private var fullHint: String { "--summary full lists them" }

    /// The summary, what mattered first (docs/semantics.md, "Text output"): what was read, the
    /// escalations and the runbook's advice, the lock keys by severity (`Summary.Key.precedes`)
    /// with the rest as one line of totals, the holders, the hosts whose loops reported
    /// unhealthy, and what the event lines left out.
    public func finish(_ s: Summary) {
        hiddenUndecided += pending.count
        pending.removeAll()
        var t = "\n" + paint("Summary", "1") + "\n"
        t += "  lines \(s.counts.lines), matched \(s.counts.matched), unparsed \(s.counts.unparsed)"
        if let a = s.firstAt, let b = s.lastAt { t += ", from \(a.rfc3339) to \(b.rfc3339)" }
        t += "\n"
        if s.counts.duplicates > 0 {
            let n = s.counts.duplicates
            t += "  \(n) journald \(n == 1 ? "entry" : "entries") read again (the same __CURSOR), counted once\n"
        }
        if s.counts.evictedKeys > 0 {
            t += "  \(count(s.counts.evictedKeys, "lock key")) evicted (--max-keys): their counts are not in this summary\n"
        }
        t += escalationsText(s)
        t += profilesText(s)
        t += holdersText(s)
        t += hostsText(s)
        if hiddenStarts + hiddenRecoveries + hiddenRepeats + hiddenBrief + hiddenUndecided > 0 {
            t += "  not printed above: \(count(hiddenStarts, "contention start")), \(count(hiddenRecoveries, "recovery within one TTL", plural: "recoveries within one TTL"))"
            if hiddenRepeats > 0 { t += ", \(count(hiddenRepeats, "repeated multi_profile escalation"))" }
            if hiddenBrief > 0 { t += ", \(count(hiddenBrief, "multi_profile escalation")) whose profiles all recovered within one TTL" }
            if hiddenUndecided > 0 { t += ", \(count(hiddenUndecided, "multi_profile escalation")) none of whose profiles was seen to last before the input ended" }
            t += " (--events all prints them)\n"
        }
        out.write(t)
        out.flush()
    }

    /// The escalations: counted by reason; listed as `Escalation.listed` orders them when
    /// bounded, own-rule ones first otherwise; then the runbook's advice.
    private func escalationsText(_ s: Summary) -> String {
        var t = "  escalations: \(s.escalations)"
        let lasting = s.lastingProfiles(ttl: ttl)
        if !escalations.isEmpty {
            let brief = escalations.count { $0.isAmongBriefContention(lasting) }
            let byReason = EscalationReason.allCases.compactMap { r -> String? in
                let n = escalations.count { $0.reason == r }
                return n == 0 ? nil : "\(r.rawValue) \(n)" + (r == .multiProfile && brief > 0 ? ", \(brief) of them among brief contention only" : "")
            }
            t += " (" + byReason.joined(separator: ", ") + ")"
        }
        t += "\n"
        let listed = limit == nil ? escalations.filter { $0.key != nil } + escalations.filter { $0.key == nil }
            : Escalation.listed(escalations, ttl: ttl, lasting: lasting)
        let (shown, more) = bounded(listed, limit)
        for e in shown {
            t += "    \(e.at.rfc3339) \(paint(e.reason.rawValue, "1;31")) \(escalationSubject(e)) since \(e.since.rfc3339), \(count(e.failures, "failure"))"
            if !e.owners.isEmpty { t += ", holders \(e.owners.map(Self.escaped).joined(separator: ","))" }
            t += "\n"
        }
        if more > 0 { t += "    and \(more) more (\(fullHint))\n" }
        let repeats = escalations.count - listed.count
        if repeats > 0 {
            t += "    and \(count(repeats, "multi_profile escalation")) repeating an earlier one (within one TTL, a profile in common) (\(fullHint))\n"
        }
        if s.escalations > escalations.count {
            t += "    and \(s.escalations - escalations.count) printed by the run this one continues (--state)\n"
        }
        if !escalations.isEmpty {
            t += "  runbook advice:\n"
            for advice in runbookAdvice { t += "    - \(advice)\n" }
        }
        return t
    }

    private func profilesText(_ s: Summary) -> String {
        if s.profiles.isEmpty { return "  no entry lock contention\n" }
        let ranked = s.keysBySeverity(ttl: ttl)
        let own = ranked.count(where: \.escalatedByOwnRule), swept = ranked.count(where: \.sweptIn)
        let open = ranked.count { $0.symbol.state == .open }
        var t = "  keys with contention: \(ranked.count) in \(count(s.profiles.count, "profile")) (\(own) escalated by their own rule, \(swept) only in multi_profile escalations, \(open) still open)"
        let (shown, more) = bounded(ranked, limit)
        t += more > 0 ? "; the \(shown.count) that mattered most:\n" : "; by severity:\n"
        for k in shown {
            let sym = k.symbol
            t += "    profile \(Self.escaped(k.profileID)) symbol \(sym.symbol.isEmpty ? "-" : Self.escaped(sym.symbol)): "
            t += "\(count(sym.failures, "failure")), \(sym.skippedSignals) skipped, \(count(sym.episodes, "episode")), "
            t += "longest \(sym.maxContention.description)s, \(sym.state == .open ? paint("still open", "33") : sym.state.rawValue)"
            if sym.escalated { t += ", " + paint("escalated", "1;31") + (k.sweptIn ? " (multi_profile)" : " \(sym.escalations)×") }
            t += "\n"
            let owners = sym.owners.sorted {
                $0.failures != $1.failures ? $0.failures > $1.failures : NameTable.shared.textPrecedes($0.name, $1.name)
            }
            let (held, others) = bounded(owners, limit.map { min($0, 3) })
            for o in held {
                t += "      holder \(Self.escaped(o.owner)): \(count(o.failures, "failure"))\(o.selfHeld ? " (the caller itself)" : "")"
                t += span(o.first, o.last)
                if o.longest > .zero { t += ", held up to \(o.longest.description)s" }
                t += "\n"
            }
            if others > 0 { t += "      and \(count(others, "more holder"))\n" }
        }
        if more > 0 { t += "    " + Summary.totals(of: ranked.dropFirst(shown.count), ttl: ttl) + " (\(fullHint))\n" }
        return t
    }

    /// When the failures that named a holder were: nothing when not known (a state saved
    /// before it was kept).
    private func span(_ first: EventTime, _ last: EventTime) -> String {
        first.micros == 0 ? "" : first == last ? ", at \(first.rfc3339)" : ", \(first.rfc3339) to \(last.rfc3339)"
    }

    private func holdersText(_ s: Summary) -> String {
        let all = s.holders(ttl: ttl)
        guard !all.isEmpty else { return "" }
        let notable = limit == nil ? all : all.filter(\.isNotable)
        guard !notable.isEmpty else {
            return "  holders: \(all.count), each named by one failed attempt only\n"
        }
        let (shown, more) = bounded(notable, limit.map { min($0, 5) })
        var t = "  holders, the longest holds first, then by keys blocked (of \(all.count)):\n"
        for h in shown {
            t += "    \(Self.escaped(h.owner)): \(count(h.keys, "key")), \(count(h.failures, "failure"))"
            t += span(h.first, h.last)
            if h.longest > .zero { t += ", held \(h.keys > 1 ? "a key" : "it") up to \(h.longest.description)s" }
            if h.selfHeld { t += " (also as the caller itself)" }
            t += "\n"
        }
        if more > 0 { t += "    and \(count(more, "more holder")) (\(fullHint))\n" }
        return t
    }

    private func hostsText(_ s: Summary) -> String {
        var t = ""
        let unhealthy = s.unhealthyHosts
        if !unhealthy.isEmpty {
            let (shown, more) = bounded(unhealthy, limit)
            t += "  hosts whose loops reported unhealthy:\n"
            for h in shown {
                let loops = Loop.allCases.compactMap { loop -> String? in
                    let n = h.unhealthy.count { $0.loop == loop }
                    return n == 0 ? nil : "\(loop.rawValue) \(n)"
                }
                t += "    \(Self.escaped(h.host)): \(count(h.unhealthySpells, "time"))"
                // By loop when every period is still kept.
                if !loops.isEmpty && h.unhealthy.count == h.unhealthySpells { t += " (" + loops.joined(separator: ", ") + ")" }
                if let last = h.unhealthy.last {
                    t += ", last from \(last.start.rfc3339)" + (last.end.map { " to \($0.rfc3339)" } ?? ", " + paint("still unhealthy", "31"))
                }
                t += "\n"
            }
            if more > 0 { t += "    and \(count(more, "more host")) (\(fullHint))\n" }
        }
        let reporting = s.hosts.filter { $0.health != HealthReport() }
        if !reporting.isEmpty {
            let (shown, more) = bounded(reporting, limit)
            t += "  hosts (last /internal/health values)\n"
            for h in shown {
                t += "    \(Self.escaped(h.host)): lockContentionCount=\(h.health.lockContentionCount.map(String.init) ?? "-")"
                t += " tradingLoopHealthy=\(h.health.tradingLoopHealthy.map { "\($0)" } ?? "-")"
                t += " reconciliationLoopHealthy=\(h.health.reconciliationLoopHealthy.map { "\($0)" } ?? "-")\n"
            }
            if more > 0 { t += "    and \(count(more, "more host")) (\(fullHint))\n" }
        }
        return t
    }
}
