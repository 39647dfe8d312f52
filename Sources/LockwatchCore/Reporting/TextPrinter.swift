/// Writes one readable line per event, and a readable summary at the end (docs/semantics.md, "Output").
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
    private let names = EncodedNames { s, out in out.append(string: TextPrinter.escaped(s)) }

    public init(out: ByteSink, color: Bool) {
        self.out = out
        self.color = color
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
        bytes.removeAll()
        write(alert, into: bytes)
        bytes.withUnsafeBytes { out.write($0) }
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
            escalations.append(e)
            painted("1;31") { text("ESCALATION "); b.append(string: e.reason.rawValue) }
            text(" "); b.append(string: escalationSubject(e))
            text(" since="); e.since.appendRFC3339(to: b, day: &day)
            text(" ("); TimeSpan.appendSeconds((e.at - e.since).micros, to: b); text("s) failures="); decimal(e.failures)
            text(" owners=")
            if e.owners.isEmpty { text("-") } else { b.append(string: e.owners.map(Self.escaped).joined(separator: ",")) }
            text("\n")
            for advice in runbookAdvice { text("    - "); b.append(string: advice); text("\n") }
            return
        case let .ownerStuck(_, k, owner, held):
            painted("35") { text("owner stuck") }; key(k)
            text(" owner="); name(owner); text(" held "); TimeSpan.appendSeconds(held.micros, to: b)
            text("s (more than one TTL: check the owner is alive, wait for TTL expiry)")
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

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    public func finish(_ s: Summary) {
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
        if s.profiles.isEmpty { t += "  no entry lock contention\n" }
        for p in s.profiles {
            t += "  profile \(Self.escaped(p.profileID)): \(count(p.failures, "failure")), "
            t += "\(count(p.skippedSignals, "skipped signal")), \(count(p.episodes, "episode"))"
            t += "\(p.escalated ? ", " + paint("escalated", "1;31") : "")\n"
            for sym in p.symbols {
                t += "    symbol \(sym.symbol.isEmpty ? "-" : Self.escaped(sym.symbol)): \(count(sym.failures, "failure")), "
                t += "\(sym.skippedSignals) skipped, \(count(sym.episodes, "episode")), \(count(sym.escalations, "escalation")), "
                t += "longest \(sym.maxContention.description)s, state \(sym.state.rawValue)\n"
                for o in sym.owners {
                    t += "      holder \(Self.escaped(o.owner)): \(count(o.failures, "failure"))\(o.selfHeld ? " (the caller itself)" : "")\n"
                }
            }
        }
        let reporting = s.hosts.filter { $0.health != HealthReport() }
        if !reporting.isEmpty {
            t += "  hosts (last /internal/health values)\n"
            for h in reporting {
                t += "    \(Self.escaped(h.host)): lockContentionCount=\(h.health.lockContentionCount.map(String.init) ?? "-")"
                t += " tradingLoopHealthy=\(h.health.tradingLoopHealthy.map { "\($0)" } ?? "-")"
                t += " reconciliationLoopHealthy=\(h.health.reconciliationLoopHealthy.map { "\($0)" } ?? "-")\n"
            }
        }
        t += "  escalations: \(s.escalations)\n"
        for e in escalations {
            t += "    \(e.at.rfc3339) \(e.reason.rawValue) \(escalationSubject(e))\n"
        }
        if s.escalations > escalations.count {
            t += "    and \(s.escalations - escalations.count) printed by the run this one continues (--state)\n"
        }
        if !escalations.isEmpty {
            t += "  runbook advice:\n"
            for advice in runbookAdvice { t += "    - \(advice)\n" }
        }
        out.write(t)
        out.flush()
    }
}
