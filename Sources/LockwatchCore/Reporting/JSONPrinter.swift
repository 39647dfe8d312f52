/// Builds one JSON object as text, with keys in the order they are added.
struct JSONObjectText {
    private(set) var text = "{"
    private var first = true

    mutating func key(_ k: String) {
        if !first { text += "," }
        first = false
        text += "\""; text += k; text += "\":"
    }

    mutating func string(_ k: String, _ v: String?) {
        key(k)
        guard let v else { text += "null"; return }
        JSONObjectText.appendQuoted(v, to: &text)
    }

    mutating func time(_ k: String, _ v: EventTime?) { string(k, v?.rfc3339) }
    mutating func int(_ k: String, _ v: Int) { key(k); text += String(v) }
    mutating func int(_ k: String, _ v: Int?) { key(k); text += v.map(String.init) ?? "null" }
    mutating func bool(_ k: String, _ v: Bool?) { key(k); text += v.map { $0 ? "true" : "false" } ?? "null" }
    mutating func seconds(_ k: String, _ v: TimeSpan) { key(k); text += v.description }
    mutating func strings(_ k: String, _ v: [String]) {
        key(k)
        text += "["
        for (i, s) in v.enumerated() {
            if i > 0 { text += "," }
            JSONObjectText.appendQuoted(s, to: &text)
        }
        text += "]"
    }
    mutating func raw(_ k: String, _ json: String) { key(k); text += json }

    func closed() -> String { text + "}" }

    /// Appends `s` as a JSON string; control characters are escaped, so none reach a terminal raw.
    static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value):
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

/// Writes NDJSON: one object per event, then one `summary` object (SPEC section 4).
public final class JSONPrinter: Sink {
    let out: ByteSink

    public init(out: ByteSink) { self.out = out }

    public var isClosed: Bool { out.isClosed }
    public func flush() { out.flush() }

    public func emit(_ alert: Alert) {
        out.write(JSONPrinter.line(alert))
    }

    /// The NDJSON line of one event, newline included.
    public static func line(_ alert: Alert) -> String {
        var o = JSONObjectText()
        o.string("type", alert.type)
        o.time("at", alert.at)
        switch alert {
        case let .contentionStarted(_, key, owner, caller, host):
            keyFields(&o, key)
            o.string("owner", owner); o.string("caller", caller); o.string("host", host)
        case let .escalation(e):
            o.string("reason", e.reason.rawValue)
            if let key = e.key { keyFields(&o, key) } else { o.strings("profiles", e.profiles) }
            o.time("since", e.since)
            o.int("failures", e.failures)
            o.strings("owners", e.owners)
            o.strings("advice", runbookAdvice)
        case let .ownerStuck(_, key, owner, held):
            keyFields(&o, key)
            o.string("owner", owner)
            o.seconds("held_s", held)
        case let .recovered(_, key, since, duration, failures, escalated):
            keyFields(&o, key)
            o.time("since", since)
            o.seconds("duration_s", duration)
            o.int("failures", failures)
            o.bool("escalated", escalated)
        case let .loopUnhealthy(_, host, loop):
            o.string("host", host)
            o.string("loop", loop.rawValue)
        }
        return o.closed() + "\n"
    }

    private static func keyFields(_ o: inout JSONObjectText, _ key: LockKey) {
        o.string("profile_id", key.profile)
        o.string("symbol", key.symbol.isEmpty ? nil : key.symbol)
    }

    public func finish(_ s: Summary) {
        out.write(JSONPrinter.summaryLine(s))
        out.flush()
    }

    /// The NDJSON line of the summary, newline included.
    public static func summaryLine(_ s: Summary) -> String {
        var o = JSONObjectText()
        o.string("type", "summary")
        o.time("at", s.lastAt)
        o.int("lines", s.counts.lines)
        o.int("matched", s.counts.matched)
        o.int("unparsed", s.counts.unparsed)
        o.time("first_at", s.firstAt)
        o.time("last_at", s.lastAt)
        o.int("escalations", s.escalations)
        o.int("exit", Int(s.exit))
        o.raw("profiles", "[" + s.profiles.map(profile).joined(separator: ",") + "]")
        o.raw("hosts", "[" + s.hosts.map(host).joined(separator: ",") + "]")
        return o.closed() + "\n"
    }

    private static func profile(_ p: Summary.Profile) -> String {
        var o = JSONObjectText()
        o.string("profile_id", p.profileID)
        o.int("failures", p.failures)
        o.int("skipped_signals", p.skippedSignals)
        o.int("episodes", p.episodes)
        o.bool("escalated", p.escalated)
        o.raw("symbols", "[" + p.symbols.map(symbol).joined(separator: ",") + "]")
        return o.closed()
    }

    private static func symbol(_ s: Summary.Symbol) -> String {
        var o = JSONObjectText()
        o.string("symbol", s.symbol.isEmpty ? nil : s.symbol)
        o.int("failures", s.failures)
        o.int("skipped_signals", s.skippedSignals)
        o.int("episodes", s.episodes)
        o.int("escalations", s.escalations)
        o.seconds("max_contention_s", s.maxContention)
        o.raw("owners", "[" + s.owners.map { w in
            var x = JSONObjectText()
            x.string("owner", w.owner)
            x.int("failures", w.failures)
            x.bool("self_held", w.selfHeld)
            return x.closed()
        }.joined(separator: ",") + "]")
        o.string("state", s.state.rawValue)
        return o.closed()
    }

    private static func host(_ h: Summary.Host) -> String {
        var o = JSONObjectText()
        o.string("host", h.host)
        o.int("lock_contention_count", h.health.lockContentionCount)
        o.bool("trading_loop_healthy", h.health.tradingLoopHealthy)
        o.bool("reconciliation_loop_healthy", h.health.reconciliationLoopHealthy)
        return o.closed()
    }
}
