// Reporting: an incident report for people — one self-contained HTML file with an SVG
// timeline, or the same account in Markdown for a ticket (`--report FILE.html|FILE.md`).

/// Collects a run's events and episodes, and writes its reports when the run finishes.
public final class ReportSink: Sink {
    public enum Format: Sendable { case html, markdown }

    /// The report files and their formats, from their names (`.md`/`.markdown`, else HTML).
    public let outputs: [(path: String, format: Format)]
    /// The inputs' names, for the heading.
    public let inputs: [String]
    /// Problems writing the files (the run goes on; the command reports them).
    public private(set) var errors: [String] = []
    /// The episodes collected, in the order they closed (then those still open).
    public private(set) var episodes: [EpisodeRecord] = []
    private(set) var escalations: [Escalation] = []
    private(set) var stuck: [(at: EventTime, key: LockKey, owner: String, held: TimeSpan)] = []
    private(set) var unhealthy: [(at: EventTime, host: String, loop: Loop)] = []
    /// Episodes beyond `maxEpisodes` are counted, not drawn.
    private(set) var droppedEpisodes = 0
    let maxEpisodes = 200_000

    public init(paths: [String], inputs: [String]) {
        outputs = paths.map { p in
            let lower = p.lowercased()
            return (p, lower.hasSuffix(".md") || lower.hasSuffix(".markdown") ? .markdown : .html)
        }
        self.inputs = inputs
    }

    public var isClosed: Bool { false }
    public var wantsEpisodes: Bool { true }
    public func flush() {}

    public func emit(_ alert: Alert) {
        switch alert {
        case .escalation(let e): escalations.append(e)
        case let .ownerStuck(at, key, owner, held): stuck.append((at, key, owner.string, held))
        case let .loopUnhealthy(at, host, loop): unhealthy.append((at, host.string, loop))
        case .contentionStarted, .recovered: break
        }
    }

    public func episode(_ e: EpisodeRecord) {
        guard episodes.count < maxEpisodes else { droppedEpisodes += 1; return }
        episodes.append(e)
    }

    /// The report of `summary` and what was collected, as text.
    public func render(_ summary: Summary, as format: Format) -> String {
        format == .html ? html(summary) : markdown(summary)
    }

    public func finish(_ summary: Summary) {
        for (path, format) in outputs {
            let text = render(summary, as: format)
            do { try writeAtomically(Array(text.utf8), to: path, what: "the report") } catch {
                errors.append("\(error)")
            }
        }
    }

    // MARK: The account both formats give

    /// Lanes of the timeline: one per key with an episode, escalated keys first, then by
    /// failures; at most `maxLanes`.
    func lanes(maxLanes: Int = 60) -> (keys: [LockKey], more: Int) {
        var failures: [LockKey: Int] = [:], escalated: Set<LockKey> = []
        for e in episodes {
            failures[e.key, default: 0] += e.failures
            if !e.escalations.isEmpty { escalated.insert(e.key) }
        }
        let sorted = failures.keys.sorted {
            let (a, b) = (escalated.contains($0), escalated.contains($1))
            if a != b { return a }
            if failures[$0]! != failures[$1]! { return failures[$0]! > failures[$1]! }
            return $0 < $1
        }
        let shown = Array(sorted.prefix(maxLanes)).sorted()
        return (shown, sorted.count - shown.count)
    }

    static let reasonMeaning: [EscalationReason: String] = [
        .persistent: "Contention persists beyond three TTL cycles (90 s by default).",
        .multiProfile: "Several profiles report contention at the same time.",
        .staleLock: "The lock row's expiry has passed, yet it still blocks: it is not being refreshed or released.",
    ]

    static let mitigation = [
        "Identify the profile_id and symbol; confirm whether another worker legitimately holds the lock.",
        "Make sure the lock owner is still alive and has not crashed; inspect the `entry_locks` TTL.",
        "Wait for TTL expiry (default 30 s) before retrying if the owner appears stuck.",
        "Avoid forcing a lock release unless the owner is confirmed dead: manual deletion risks concurrent exchange submission.",
    ]

    private func period(_ s: Summary) -> String {
        guard let a = s.firstAt, let b = s.lastAt else { return "no records" }
        return "\(a.rfc3339) – \(b.rfc3339) (\((b - a).spoken))"
    }

    private func subject(_ e: Escalation) -> String {
        if let k = e.key { return k.label }
        return e.profiles.joined(separator: ", ")
    }

    // MARK: HTML

    private func html(_ s: Summary) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>lockwatch report — \(esc(inputs.joined(separator: ", ")))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px 32px;color:#1d232a;background:#fff}
            h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
            .meta{color:#57606a} .cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
            .card{border:1px solid #d8dee4;border-radius:8px;padding:10px 14px;min-width:120px}
            .card b{display:block;font-size:22px} .esc{color:#b42318} .ok{color:#1a7f37}
            table{border-collapse:collapse;margin:6px 0 12px} th,td{border:1px solid #d8dee4;padding:4px 8px;text-align:left;vertical-align:top}
            th{background:#f6f8fa} td.n{text-align:right;font-variant-numeric:tabular-nums} td.t{white-space:nowrap}
            code{font:12px ui-monospace,"DejaVu Sans Mono",monospace;background:#f6f8fa;padding:1px 4px;border-radius:4px}
            svg text{font:11px ui-monospace,"DejaVu Sans Mono",monospace;fill:#1d232a} svg .axis{fill:#57606a}
            .legend span{display:inline-block;margin-right:16px} .sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
            </style></head><body>
            <h1>ENTRY lock contention — incident report</h1>
            <div class="meta">\(esc(inputs.joined(separator: ", "))) · \(esc(period(s))) · \(s.counts.lines) lines, \(s.counts.matched) lock records</div>
            <div class="cards">
            <div class="card"><b class="\(s.escalations > 0 ? "esc" : "ok")">\(s.escalations)</b>escalations</div>
            <div class="card"><b>\(s.profiles.count)</b>profiles contended</div>
            <div class="card"><b>\(s.profiles.reduce(0) { $0 + $1.failures })</b>failed attempts</div>
            <div class="card"><b>\(s.profiles.flatMap(\.symbols).filter { $0.state == .open }.count)</b>episodes still open</div>
            </div>

            """
        h += "<h2>Timeline</h2>\n" + timeline(s)
        if !escalations.isEmpty {
            h += "<h2>Escalations</h2>\n<table><tr><th>at</th><th>reason</th><th>profile / symbol</th><th>since</th><th>failures</th><th>holders</th></tr>\n"
            for e in escalations {
                h += "<tr><td class=\"t\">\(e.at.rfc3339)</td><td class=\"esc\">\(e.reason.rawValue)</td><td>\(esc(subject(e)))</td><td class=\"t\">\(e.since.rfc3339)</td><td class=\"n\">\(e.failures)</td><td>\(esc(e.owners.joined(separator: ", ")))</td></tr>\n"
            }
            h += "</table>\n"
        }
        h += "<h2>Profiles and symbols</h2>\n<table><tr><th>profile</th><th>symbol</th><th>failures</th><th>skipped signals</th><th>episodes</th><th>escalations</th><th>longest</th><th>state</th><th>holders</th></tr>\n"
        for p in s.profiles {
            for sym in p.symbols {
                let owners = sym.owners.map { "\($0.owner) (\($0.failures)\($0.selfHeld ? ", the caller itself" : ""))" }.joined(separator: ", ")
                h += "<tr><td>\(esc(p.profileID))</td><td class=\"t\">\(esc(sym.symbol.isEmpty ? "-" : sym.symbol))</td><td class=\"n\">\(sym.failures)</td><td class=\"n\">\(sym.skippedSignals)</td><td class=\"n\">\(sym.episodes)</td><td class=\"n\">\(sym.escalations)</td><td class=\"n t\">\(sym.maxContention.spoken)</td><td>\(sym.state.rawValue)</td><td>\(esc(owners))</td></tr>\n"
            }
        }
        h += "</table>\n"
        let reporting = s.hosts.filter { $0.health != HealthReport() }
        if !reporting.isEmpty || !unhealthy.isEmpty {
            h += "<h2>Hosts</h2>\n<table><tr><th>host</th><th>lockContentionCount</th><th>tradingLoopHealthy</th><th>reconciliationLoopHealthy</th></tr>\n"
            for host in reporting {
                let v = host.health
                h += "<tr><td>\(esc(host.host))</td><td class=\"n\">\(v.lockContentionCount.map(String.init) ?? "-")</td><td>\(v.tradingLoopHealthy.map { "\($0)" } ?? "-")</td><td>\(v.reconciliationLoopHealthy.map { "\($0)" } ?? "-")</td></tr>\n"
            }
            h += "</table>\n"
            for u in unhealthy { h += "<p>\(u.at.rfc3339): the \(u.loop.rawValue) loop of \(esc(u.host)) reported unhealthy.</p>\n" }
        }
        let reasons = Set(escalations.map(\.reason)).sorted()
        if !reasons.isEmpty {
            h += "<h2>What the runbook says</h2>\n"
            for r in reasons { h += "<p><b>\(r.rawValue)</b>: \(esc(Self.reasonMeaning[r] ?? ""))</p>\n" }
            h += "<p>Immediate mitigation:</p><ol>\n" + Self.mitigation.map { "<li>\(esc($0))</li>" }.joined(separator: "\n") + "</ol>\n"
            h += "<p>On escalation:</p><ul>\n" + runbookAdvice.map { "<li>\(esc($0))</li>" }.joined(separator: "\n") + "</ul>\n"
        }
        h += "<p class=\"meta\">Made by lockwatch from the logs' own event times; \(s.counts.unparsed) lines could not be decoded.</p>\n</body></html>\n"
        return h
    }

    private func timeline(_ s: Summary) -> String {
        let (keys, more) = lanes()
        guard let t0 = s.firstAt, let t1 = s.lastAt, !keys.isEmpty else { return "<p>No contention episodes.</p>\n" }
        let span = max(1, Double(t1.micros - t0.micros))
        let labelWidth = 300.0, plotWidth = 820.0, laneHeight = 24.0, top = 28.0
        let height = top + Double(keys.count) * laneHeight + 30
        let lane = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        func x(_ t: EventTime) -> Double { labelWidth + plotWidth * Double(t.micros - t0.micros) / span }
        func y(_ k: Int) -> Double { top + Double(k) * laneHeight }
        func f(_ v: Double) -> String { String(Int((v * 10).rounded())).withDecimal }
        var g = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + plotWidth + 20))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"timeline of contention episodes\">\n"
        // Axis: ticks at round times.
        let ticks = 6
        for i in 0...ticks {
            let t = EventTime(micros: t0.micros + Int64(Double(t1.micros - t0.micros) * Double(i) / Double(ticks)))
            let tx = x(t)
            g += "<line x1=\"\(f(tx))\" y1=\"\(f(top - 6))\" x2=\"\(f(tx))\" y2=\"\(f(height - 26))\" stroke=\"#eaeef2\"/>"
            let label = String(t.rfc3339.dropFirst(11).prefix(8))
            let anchor = i == 0 ? "start" : i == ticks ? "end" : "middle"
            g += "<text class=\"axis\" x=\"\(f(tx))\" y=\"\(f(top - 10))\" text-anchor=\"\(anchor)\">\(label)</text>\n"
        }
        for (k, key) in keys.enumerated() {
            if k % 2 == 1 { g += "<rect x=\"0\" y=\"\(f(y(k)))\" width=\"\(Int(labelWidth + plotWidth))\" height=\"\(f(laneHeight))\" fill=\"#f6f8fa\"/>" }
            g += "<text x=\"6\" y=\"\(f(y(k) + 16))\"><title>\(esc(key.label))</title>\(esc(key.label.elided(to: 40)))</text>\n"
        }
        let colours: [EpisodeState: String] = [.recovered: "#2da44e", .quiet: "#8c959f", .open: "#cf222e"]
        for e in episodes {
            guard let k = lane[e.key] else { continue }
            let x0 = x(e.start), w = max(3, x(e.end) - x0)
            let tip = "\(e.key.label)\n\(e.start.rfc3339) → \(e.end.rfc3339) (\((e.end - e.start).spoken))\n\(e.state.rawValue), \(e.failures) failed attempts\nholder: \(e.owners.isEmpty ? "unknown" : e.owners.joined(separator: ", "))" + (e.escalations.isEmpty ? "" : "\nescalated: \(e.escalations.map(\.rawValue).joined(separator: ", "))")
            g += "<rect x=\"\(f(x0))\" y=\"\(f(y(k) + 5))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 10))\" rx=\"3\" fill=\"\(colours[e.state]!)\"><title>\(esc(tip))</title></rect>\n"
        }
        for st in stuck {
            guard let k = lane[st.key] else { continue }
            let sx = x(st.at)
            g += "<line x1=\"\(f(sx))\" y1=\"\(f(y(k) + 2))\" x2=\"\(f(sx))\" y2=\"\(f(y(k) + laneHeight - 2))\" stroke=\"#1d232a\" stroke-width=\"2\"><title>\(esc("owner stuck at \(st.at.rfc3339): \(st.owner) held \(st.held.spoken)"))</title></line>\n"
        }
        for e in escalations {
            let targets = e.key.map { [$0] } ?? keys.filter { e.profiles.contains($0.profile) }
            for key in targets {
                guard let k = lane[key] else { continue }
                let ex = x(e.at), ey = y(k) + laneHeight / 2
                let tip = "\(e.reason.rawValue) at \(e.at.rfc3339)\nsince \(e.since.rfc3339), \(e.failures) failures\nholders: \(e.owners.joined(separator: ", "))"
                g += "<g><title>\(esc(tip))</title>" + Self.marker(e.reason, ex, ey, f) + "</g>\n"
            }
        }
        g += "<text class=\"axis\" x=\"\(f(labelWidth))\" y=\"\(f(height - 8))\">event time (UTC), \(t0.rfc3339.prefix(10))</text>\n</svg>\n"
        var legend = "<div class=\"legend\"><span><i class=\"sw\" style=\"background:#2da44e\"></i>recovered</span><span><i class=\"sw\" style=\"background:#8c959f\"></i>quiet</span><span><i class=\"sw\" style=\"background:#cf222e\"></i>open at the end</span>"
        legend += "<span><b style=\"color:#b42318\">◆</b> persistent</span><span><b style=\"color:#8250df\">■</b> stale_lock</span><span><b style=\"color:#bc4c00\">▲</b> multi_profile</span><span><b>|</b> owner stuck beyond a TTL</span></div>\n"
        if more > 0 { legend += "<p class=\"meta\">\(more) more keys with episodes are not drawn (the tables list every key).</p>\n" }
        if droppedEpisodes > 0 { legend += "<p class=\"meta\">\(droppedEpisodes) episodes beyond \(maxEpisodes) are not drawn.</p>\n" }
        return g + legend
    }

    private static func marker(_ reason: EscalationReason, _ x: Double, _ y: Double, _ f: (Double) -> String) -> String {
        switch reason {
        case .persistent:
            return "<path d=\"M\(f(x)) \(f(y - 8))L\(f(x + 8)) \(f(y))L\(f(x)) \(f(y + 8))L\(f(x - 8)) \(f(y))Z\" fill=\"#b42318\" stroke=\"#fff\"/>"
        case .staleLock:
            return "<rect x=\"\(f(x - 6))\" y=\"\(f(y - 6))\" width=\"12\" height=\"12\" fill=\"#8250df\" stroke=\"#fff\"/>"
        case .multiProfile:
            return "<path d=\"M\(f(x)) \(f(y - 8))L\(f(x + 8)) \(f(y + 7))L\(f(x - 8)) \(f(y + 7))Z\" fill=\"#bc4c00\" stroke=\"#fff\"/>"
        }
    }

    // MARK: Markdown

    private func markdown(_ s: Summary) -> String {
        var m = "# ENTRY lock contention — incident report\n\n"
        m += "- Input: \(inputs.map { "`\(md($0))`" }.joined(separator: ", "))\n- Period: \(period(s))\n"
        m += "- \(s.counts.lines) lines, \(s.counts.matched) lock records, \(s.counts.unparsed) could not be decoded\n"
        m += "- **\(s.escalations) escalations**, \(s.profiles.count) profiles contended, \(s.profiles.reduce(0) { $0 + $1.failures }) failed attempts\n\n"
        if !escalations.isEmpty {
            m += "## Escalations\n\n| at | reason | profile / symbol | since | failures | holders |\n|---|---|---|---|---:|---|\n"
            for e in escalations {
                m += "| \(e.at.rfc3339) | **\(e.reason.rawValue)** | \(md(subject(e))) | \(e.since.rfc3339) | \(e.failures) | \(md(e.owners.joined(separator: ", "))) |\n"
            }
            m += "\n"
        }
        if !episodes.isEmpty {
            m += "## Episodes\n\n| profile / symbol | from | to | duration | state | failures | holders | escalated |\n|---|---|---|---:|---|---:|---|---|\n"
            for e in episodes.sorted(by: { ($0.start, $0.key) < ($1.start, $1.key) }).prefix(500) {
                m += "| \(md(e.key.label)) | \(e.start.rfc3339) | \(e.end.rfc3339) | \((e.end - e.start).spoken) | \(e.state.rawValue) | \(e.failures) | \(md(e.owners.joined(separator: ", "))) | \(e.escalations.map(\.rawValue).joined(separator: ", ")) |\n"
            }
            if episodes.count > 500 { m += "\n\(episodes.count - 500) more episodes are in the HTML report and the NDJSON output.\n" }
            m += "\n"
        }
        if !stuck.isEmpty {
            m += "## Holders stuck beyond one TTL\n\n"
            for st in stuck { m += "- \(st.at.rfc3339): `\(md(st.owner))` held \(md(st.key.label)) for \(st.held.spoken)\n" }
            m += "\n"
        }
        m += "## Profiles and symbols\n\n| profile | symbol | failures | skipped signals | episodes | escalations | longest | state | holders |\n|---|---|---:|---:|---:|---:|---:|---|---|\n"
        for p in s.profiles {
            for sym in p.symbols {
                m += "| \(md(p.profileID)) | \(md(sym.symbol.isEmpty ? "-" : sym.symbol)) | \(sym.failures) | \(sym.skippedSignals) | \(sym.episodes) | \(sym.escalations) | \(sym.maxContention.spoken) | \(sym.state.rawValue) | \(md(sym.owners.map(\.owner).joined(separator: ", "))) |\n"
            }
        }
        let reasons = Set(escalations.map(\.reason)).sorted()
        if !reasons.isEmpty {
            m += "\n## What the runbook says\n\n"
            for r in reasons { m += "- **\(r.rawValue)**: \(Self.reasonMeaning[r] ?? "")\n" }
            m += "\nImmediate mitigation:\n\n" + Self.mitigation.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n") + "\n"
            m += "\nOn escalation:\n\n" + runbookAdvice.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        return m
    }

    /// Text for HTML, escaped (and control characters made visible).
    private func esc(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { escLine(String($0)) }.joined(separator: "&#10;")
    }

    private func escLine(_ s: String) -> String {
        var out = ""
        for c in TextPrinter.escaped(s) {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Text for a Markdown table cell.
    private func md(_ s: String) -> String {
        TextPrinter.escaped(s).replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "`", with: "'")
    }
}

private extension String {
    /// Tenths as a decimal: "1234" → "123.4".
    var withDecimal: String {
        let negative = hasPrefix("-")
        var digits = negative ? String(dropFirst()) : self
        while digits.count < 2 { digits = "0" + digits }
        return (negative ? "-" : "") + digits.dropLast() + "." + digits.suffix(1)
    }
}
