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
    /// Episodes beyond `maxEpisodes` are counted, not drawn.
    private(set) var droppedEpisodes = 0
    let maxEpisodes = 200_000

    /// One TTL: a key whose contention never outlasted it, and that did not escalate, is drawn
    /// in the aggregate row rather than a lane of its own.
    let ttl: TimeSpan
    /// Lanes drawn one by one at most, and rows of the keys' table at most.
    let maxLanes = 30, maxRows = 100
    /// Lanes at most for keys whose only escalation was a multi_profile one that also named a
    /// lasting profile (`Summary.lastingProfiles`), their own contention within one TTL.
    let maxSweptLanes = 5
    /// Lanes at most for hosts whose loops reported unhealthy (most often first).
    let maxHostLanes = 10

    public init(paths: [String], inputs: [String], ttl: TimeSpan = Thresholds().ttl) {
        self.ttl = ttl
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
        case let .ownerStuck(at, key, owner, held, _): stuck.append((at, key, owner.string, held))
        case .contentionStarted, .recovered, .loopUnhealthy: break
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

    /// Lanes of the timeline: the keys in the order of `Summary.keysBySeverity` that escalated
    /// or were contended longer than one TTL, at most `maxLanes`; every other key is drawn in
    /// the aggregate row.
    func lanes(_ s: Summary) -> (keys: [LockKey], folded: Set<LockKey>) {
        var keys: [LockKey] = [], folded = Set<LockKey>(), swept = 0
        // The profiles a multi_profile escalation named together with a lasting one.
        let lasting = s.lastingProfiles(ttl: ttl)
        let withLasting = Set(escalations.filter { $0.key == nil && !$0.isAmongBriefContention(lasting) }.flatMap(\.profiles))
        for k in s.keysBySeverity(ttl: ttl) {
            let key = LockKey(profile: k.profileID, symbol: k.symbol.symbol)
            // A lane for what escalated by its own rule or was contended longer than one TTL
            // (open or not); of the keys a multi_profile escalation swept in together with such
            // a profile, the first few.
            let own = k.lasts(ttl)
            let sweptIn = !own && k.sweptIn && withLasting.contains(k.profileID) && swept < maxSweptLanes
            if keys.count < maxLanes && (own || sweptIn) {
                keys.append(key)
                if sweptIn { swept += 1 }
            } else {
                folded.insert(key)
            }
        }
        return (keys, folded)
    }

    /// Round steps for time ticks and the aggregate row's buckets, in seconds.
    static let steps: [Int64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
                                 2 * 86400, 7 * 86400]

    /// A round step in words: "15 s", "5 min", "1 h".
    static func roundSpan(_ micros: Int64) -> String {
        let s = micros / 1_000_000
        return s % 3600 == 0 ? "\(s / 3600) h" : s % 60 == 0 ? "\(s / 60) min" : "\(s) s"
    }

    /// The smallest round step that cuts `span` into at most `count` parts.
    static func step(for span: TimeSpan, atMost count: Int64) -> Int64 {
        let seconds = max(1, span.micros / 1_000_000)
        if let step = steps.first(where: { seconds / $0 < count }) { return step }
        let weeks = seconds / (7 * 86400) / count + 1
        return weeks * 7 * 86400
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
            let listed = Escalation.listed(escalations, ttl: ttl, lasting: s.lastingProfiles(ttl: ttl))
            h += "<h2>Escalations</h2>\n<table><tr><th>at</th><th>reason</th><th>profile / symbol</th><th>since</th><th>failures</th><th>holders</th></tr>\n"
            for e in listed.prefix(maxRows) {
                h += "<tr><td class=\"t\">\(e.at.rfc3339)</td><td class=\"esc\">\(e.reason.rawValue)</td><td>\(esc(subject(e)))</td><td class=\"t\">\(e.since.rfc3339)</td><td class=\"n\">\(e.failures)</td><td>\(esc(e.owners.joined(separator: ", ")))</td></tr>\n"
            }
            h += "</table>\n"
            if escalations.count > min(maxRows, listed.count) {
                let repeats = escalations.count - listed.count, more = max(0, listed.count - maxRows)
                h += "<p class=\"meta\">Persistent and stale_lock first, then multi_profile; not listed: "
                    + [more > 0 ? "\(more) more" : nil, repeats > 0 ? "\(repeats) multi_profile escalations repeating an earlier one (docs/semantics.md, \"Text output\")" : nil]
                    .compactMap { $0 }.joined(separator: ", ") + ". The NDJSON output has every one.</p>\n"
            }
        }
        let all = s.holders(ttl: ttl)
        let holders = all.filter(\.isNotable), everyHolder = all.count
        if everyHolder > 0 && holders.isEmpty {
            h += "<h2>Holders</h2>\n<p>\(everyHolder) holders, each named by one failed attempt only.</p>\n"
        }
        if !holders.isEmpty {
            h += "<h2>Holders</h2>\n<p class=\"meta\">Who held the keys that failed: is it a worker that legitimately holds the lock, and is it alive? Those that held a key longer than one TTL first, the longest first; then by keys blocked.</p>\n"
            h += "<table><tr><th>holder</th><th>keys</th><th>failures</th><th>first failure</th><th>last failure</th><th>longest hold of a key</th></tr>\n"
            for o in holders.prefix(20) {
                let known = o.first.micros != 0
                h += "<tr><td>\(esc(o.owner))\(o.selfHeld ? " (also the caller itself)" : "")</td><td class=\"n\">\(o.keys)</td><td class=\"n\">\(o.failures)</td><td class=\"t\">\(known ? o.first.rfc3339 : "-")</td><td class=\"t\">\(known ? o.last.rfc3339 : "-")</td><td class=\"n t\">\(known ? o.longest.spoken : "-")</td></tr>\n"
            }
            h += "</table>\n"
            if holders.count > 20 { h += "<p class=\"meta\">\(holders.count - 20) more holders, none blocking more keys than those above.</p>\n" }
        }
        let ranked = s.keysBySeverity(ttl: ttl)
        h += "<h2>Lock keys, most severe first</h2>\n<table><tr><th>profile</th><th>symbol</th><th>failures</th><th>skipped signals</th><th>episodes</th><th>escalations</th><th>longest</th><th>state</th><th>holders</th></tr>\n"
        for k in ranked.prefix(maxRows) {
            let sym = k.symbol
            let owners = sym.owners.map { "\($0.owner) (\($0.failures)\($0.selfHeld ? ", the caller itself" : ""))" }.joined(separator: ", ")
            h += "<tr><td>\(esc(k.profileID))</td><td class=\"t\">\(esc(sym.symbol.isEmpty ? "-" : sym.symbol))</td><td class=\"n\">\(sym.failures)</td><td class=\"n\">\(sym.skippedSignals)</td><td class=\"n\">\(sym.episodes)</td><td class=\"n\">\(sym.escalations)\(k.sweptIn ? " (multi_profile)" : "")</td><td class=\"n t\">\(sym.maxContention.spoken)</td><td>\(sym.state.rawValue)</td><td>\(esc(owners))</td></tr>\n"
        }
        if ranked.count > maxRows {
            let rest = ranked.dropFirst(maxRows)
            h += "<tr><td colspan=\"9\" class=\"meta\">\(esc(Summary.totals(of: rest, ttl: ttl))) (the NDJSON output lists every key)</td></tr>\n"
        }
        h += "</table>\n"
        let unhealthy = s.unhealthyHosts
        let reporting = unhealthy + s.hosts.filter { $0.health != HealthReport() && $0.unhealthySpells == 0 }
        if !reporting.isEmpty {
            h += "<h2>Hosts</h2>\n<table><tr><th>host</th><th>times a loop reported unhealthy</th><th>lockContentionCount</th><th>tradingLoopHealthy</th><th>reconciliationLoopHealthy</th></tr>\n"
            for host in reporting {
                let v = host.health
                h += "<tr><td>\(esc(host.host))</td><td class=\"n\">\(host.unhealthySpells)</td><td class=\"n\">\(v.lockContentionCount.map(String.init) ?? "-")</td><td>\(v.tradingLoopHealthy.map { "\($0)" } ?? "-")</td><td>\(v.reconciliationLoopHealthy.map { "\($0)" } ?? "-")</td></tr>\n"
            }
            h += "</table>\n"
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
        let (keys, folded) = lanes(s)
        let sick = Array(s.unhealthyHosts.prefix(maxHostLanes))
        guard let t0 = s.firstAt, let t1 = s.lastAt, !(keys.isEmpty && folded.isEmpty && sick.isEmpty) else {
            return "<p>No contention episodes.</p>\n"
        }
        let span = max(1, Double(t1.micros - t0.micros))
        let labelWidth = 300.0, plotWidth = 820.0, laneHeight = 24.0, top = 28.0
        // Rows: one lane per key, then the aggregate row of the folded keys, then one per host
        // whose loops reported unhealthy.
        let strip = folded.isEmpty ? 0 : 1
        let rows = keys.count + strip + sick.count
        let height = top + Double(rows) * laneHeight + 30
        let lane = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        func x(_ t: EventTime) -> Double { labelWidth + plotWidth * Double(t.micros - t0.micros) / span }
        func y(_ k: Int) -> Double { top + Double(k) * laneHeight }
        func f(_ v: Double) -> String { String(Int((v * 10).rounded())).withDecimal }
        var g = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + plotWidth + 20))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"timeline of contention episodes\">\n"
        // Axis: ticks at round times (10 s, 1 min, 10 min, 1 h, …) within the log's span.
        let step = Self.step(for: t1 - t0, atMost: 8) * 1_000_000
        var tick = (floorDiv(t0.micros - 1, step) + 1) * step
        while tick <= t1.micros {
            let tx = x(EventTime(micros: tick))
            g += "<line x1=\"\(f(tx))\" y1=\"\(f(top - 6))\" x2=\"\(f(tx))\" y2=\"\(f(height - 26))\" stroke=\"#eaeef2\"/>"
            let stamp = EventTime(micros: tick).rfc3339
            let label = step >= 86_400_000_000 ? String(stamp.dropFirst(5).prefix(5))
                : String(stamp.dropFirst(11).prefix(step >= 60_000_000 ? 5 : 8))
            g += "<text class=\"axis\" x=\"\(f(tx))\" y=\"\(f(top - 10))\" text-anchor=\"middle\">\(label)</text>\n"
            tick += step
        }
        for k in 0..<rows where k % 2 == 1 {
            g += "<rect x=\"0\" y=\"\(f(y(k)))\" width=\"\(Int(labelWidth + plotWidth))\" height=\"\(f(laneHeight))\" fill=\"#f6f8fa\"/>"
        }
        for (k, key) in keys.enumerated() {
            g += "<text x=\"6\" y=\"\(f(y(k) + 16))\"><title>\(esc(key.label))</title>\(esc(key.label.elided(to: 40)))</text>\n"
        }
        let colours: [EpisodeState: String] = [.recovered: "#2da44e", .quiet: "#8c959f", .open: "#cf222e"]
        // The aggregate row: per bucket of round time, how many folded profiles were contended.
        let bucket = Self.step(for: t1 - t0, atMost: 120) * 1_000_000
        var contended: [Int64: Set<Name>] = [:]
        for e in episodes {
            if let k = lane[e.key] {
                let x0 = x(e.start), w = max(3, x(e.end) - x0)
                let tip = "\(e.key.label)\n\(e.start.rfc3339) → \(e.end.rfc3339) (\((e.end - e.start).spoken))\n\(e.state.rawValue), \(e.failures) failed attempts\nholder: \(e.owners.isEmpty ? "unknown" : e.owners.joined(separator: ", "))" + (e.escalations.isEmpty ? "" : "\nescalated: \(e.escalations.map(\.rawValue).joined(separator: ", "))")
                g += "<rect x=\"\(f(x0))\" y=\"\(f(y(k) + 5))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 10))\" rx=\"3\" fill=\"\(colours[e.state]!)\"><title>\(esc(tip))</title></rect>\n"
            } else if folded.contains(e.key) {
                for b in stride(from: floorDiv(e.start.micros, bucket), through: floorDiv(e.end.micros, bucket), by: 1) {
                    contended[b, default: []].insert(e.key.profileName)
                }
            }
        }
        if strip == 1 {
            let k = keys.count
            let profiles = Set(folded.map(\.profileName)).count
            g += "<text x=\"6\" y=\"\(f(y(k) + 16))\"><title>\(esc("\(folded.count) more keys of \(profiles) profiles, drawn together: each cell is the profiles contended in those \(Self.roundSpan(bucket))"))</title>\(esc("other keys of \(profiles) profiles, per \(Self.roundSpan(bucket))"))</text>\n"
            let most = Double(contended.values.map(\.count).max() ?? 1)
            for (b, set) in contended.sorted(by: { $0.key < $1.key }) {
                let from = EventTime(micros: max(b * bucket, t0.micros)), to = EventTime(micros: min((b + 1) * bucket, t1.micros))
                let x0 = x(from), w = max(1, x(to) - x0)
                let tip = "\(from.rfc3339) → \(to.rfc3339)\n\(set.count) profiles contended"
                g += "<rect x=\"\(f(x0))\" y=\"\(f(y(k) + 5))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 10))\" fill=\"#bc4c00\" fill-opacity=\"\(f(0.15 + 0.85 * Double(set.count) / most))\"><title>\(esc(tip))</title></rect>\n"
            }
        }
        // A lane per host whose loops reported unhealthy: its unhealthy periods.
        for (n, host) in sick.enumerated() {
            let k = keys.count + strip + n
            g += "<text x=\"6\" y=\"\(f(y(k) + 16))\"><title>\(esc("host \(host.host): loops reported unhealthy \(host.unhealthySpells) times"))</title>\(esc("host \(host.host.elided(to: 28)) health"))</text>\n"
            for p in host.unhealthy {
                let end = p.end ?? t1
                let x0 = x(p.start), w = max(3, x(end) - x0)
                let tip = "\(p.loop.rawValue) loop unhealthy\n\(p.start.rfc3339) → \(p.end.map(\.rfc3339) ?? "still unhealthy at the end")"
                let dy = p.loop == .trading ? 4.0 : laneHeight / 2
                g += "<rect x=\"\(f(x0))\" y=\"\(f(y(k) + dy))\" width=\"\(f(w))\" height=\"\(f(laneHeight / 2 - 4))\" fill=\"\(p.loop == .trading ? "#cf222e" : "#9a6700")\"><title>\(esc(tip))</title></rect>\n"
            }
        }
        for st in stuck {
            guard let k = lane[st.key] else { continue }
            let sx = x(st.at)
            g += "<line x1=\"\(f(sx))\" y1=\"\(f(y(k) + 2))\" x2=\"\(f(sx))\" y2=\"\(f(y(k) + laneHeight - 2))\" stroke=\"#1d232a\" stroke-width=\"2\"><title>\(esc("owner stuck at \(st.at.rfc3339): \(st.owner) held \(st.held.spoken)"))</title></line>\n"
        }
        // Markers: multi_profile ones first, so that a key's own escalation is drawn over them;
        // one marker of a reason in a lane stands for the others within a few pixels of it.
        var lastMarker: [Int: [EscalationReason: Double]] = [:]
        for e in escalations.filter({ $0.key == nil }) + escalations.filter({ $0.key != nil }) {
            let targets = e.key.map { [$0] } ?? keys.filter { e.profiles.contains($0.profile) }
            for key in targets {
                guard let k = lane[key] else { continue }
                let ex = x(e.at), ey = y(k) + laneHeight / 2
                if let last = lastMarker[k]?[e.reason], abs(ex - last) < 8 { continue }
                lastMarker[k, default: [:]][e.reason] = ex
                let tip = "\(e.reason.rawValue) at \(e.at.rfc3339)\nsince \(e.since.rfc3339), \(e.failures) failures\nholders: \(e.owners.joined(separator: ", "))"
                g += "<g><title>\(esc(tip))</title>" + Self.marker(e.reason, ex, ey, f) + "</g>\n"
            }
        }
        g += "<text class=\"axis\" x=\"\(f(labelWidth))\" y=\"\(f(height - 8))\">event time (UTC), \(t0.rfc3339.prefix(10)), a tick every \(Self.roundSpan(step))</text>\n</svg>\n"
        var legend = "<div class=\"legend\"><span><i class=\"sw\" style=\"background:#2da44e\"></i>recovered</span><span><i class=\"sw\" style=\"background:#8c959f\"></i>quiet</span><span><i class=\"sw\" style=\"background:#cf222e\"></i>open at the end</span>"
        legend += "<span><b style=\"color:#b42318\">◆</b> persistent</span><span><b style=\"color:#8250df\">■</b> stale_lock</span><span><b style=\"color:#bc4c00\">▲</b> multi_profile</span><span><b>|</b> owner stuck beyond a TTL</span>"
        if strip == 1 { legend += "<span><i class=\"sw\" style=\"background:#bc4c00\"></i>profiles contended, darker is more</span>" }
        if !sick.isEmpty { legend += "<span><i class=\"sw\" style=\"background:#cf222e\"></i>trading loop unhealthy</span><span><i class=\"sw\" style=\"background:#9a6700\"></i>reconciliation loop unhealthy</span>" }
        legend += "</div>\n"
        if !folded.isEmpty {
            legend += "<p class=\"meta\">Lanes: the keys that escalated by their own rule or were contended longer than one TTL, and the first \(maxSweptLanes) that a multi_profile escalation swept in together with one of those, most severe first (at most \(maxLanes)); the \(folded.count) other keys (of \(Set(folded.map(\.profileName)).count) profiles) are drawn together in one row.</p>\n"
        }
        if droppedEpisodes > 0 { legend += "<p class=\"meta\">\(droppedEpisodes) episodes beyond \(maxEpisodes) are not drawn.</p>\n" }
        if s.unhealthyHosts.count > sick.count {
            legend += "<p class=\"meta\">\(s.unhealthyHosts.count - sick.count) more hosts whose loops reported unhealthy are in the Hosts table.</p>\n"
        }
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
            let listed = Escalation.listed(escalations, ttl: ttl, lasting: s.lastingProfiles(ttl: ttl))
            for e in listed.prefix(maxRows) {
                m += "| \(e.at.rfc3339) | **\(e.reason.rawValue)** | \(md(subject(e))) | \(e.since.rfc3339) | \(e.failures) | \(md(e.owners.joined(separator: ", "))) |\n"
            }
            if escalations.count > min(maxRows, listed.count) {
                m += "\nNot listed: \(escalations.count - min(maxRows, listed.count)) more (multi_profile ones repeating an earlier one, within one TTL with a profile in common, or beyond \(maxRows)); the NDJSON output has every one.\n"
            }
            m += "\n"
        }
        // The episodes of the keys the timeline draws as lanes (the severe ones).
        let drawn = Set(lanes(s).keys)
        let severe = episodes.filter { drawn.contains($0.key) }
        if !severe.isEmpty {
            m += "## Episodes of the most severe keys\n\n| profile / symbol | from | to | duration | state | failures | holders | escalated |\n|---|---|---|---:|---|---:|---|---|\n"
            for e in severe.sorted(by: { ($0.start, $0.key) < ($1.start, $1.key) }).prefix(500) {
                m += "| \(md(e.key.label)) | \(e.start.rfc3339) | \(e.end.rfc3339) | \((e.end - e.start).spoken) | \(e.state.rawValue) | \(e.failures) | \(md(e.owners.joined(separator: ", "))) | \(e.escalations.map(\.rawValue).joined(separator: ", ")) |\n"
            }
            m += "\n"
        }
        let untabled = episodes.count - min(500, severe.count) + droppedEpisodes
        if untabled > 0 {
            m += "\(untabled) more episodes (of keys with transient contention, or beyond these) are not listed here: the HTML report draws them (those of the folded keys in one row), the NDJSON output has every one.\n\n"
        }
        if !stuck.isEmpty {
            m += "## Holders stuck beyond one TTL\n\n"
            for st in stuck { m += "- \(st.at.rfc3339): `\(md(st.owner))` had held \(md(st.key.label)) for \(st.held.spoken), more than one TTL (the holders table gives how long it went on)\n" }
            m += "\n"
        }
        let all = s.holders(ttl: ttl)
        let holders = all.filter(\.isNotable)
        if holders.isEmpty && !all.isEmpty { m += "## Holders\n\n\(all.count) holders, each named by one failed attempt only.\n\n" }
        if !holders.isEmpty {
            m += "## Holders, the longest holds first\n\n| holder | keys | failures | first failure | last failure | longest hold of a key |\n|---|---:|---:|---|---|---:|\n"
            for o in holders.prefix(20) {
                let known = o.first.micros != 0
                m += "| \(md(o.owner)) | \(o.keys) | \(o.failures) | \(known ? o.first.rfc3339 : "-") | \(known ? o.last.rfc3339 : "-") | \(known ? o.longest.spoken : "-") |\n"
            }
            if holders.count > 20 { m += "\n\(holders.count - 20) more holders.\n" }
            m += "\n"
        }
        let sick = s.unhealthyHosts
        if !sick.isEmpty {
            m += "## Hosts whose loops reported unhealthy\n\n"
            for h in sick {
                let last = h.unhealthy.last
                m += "- `\(md(h.host))`: \(h.unhealthySpells) \(h.unhealthySpells == 1 ? "time" : "times")" + (last.map { ", last the \($0.loop.rawValue) loop from \($0.start.rfc3339)" + ($0.end.map { " to \($0.rfc3339)" } ?? ", still unhealthy at the end") } ?? "") + "\n"
            }
            m += "\n"
        }
        let ranked = s.keysBySeverity(ttl: ttl)
        m += "## Lock keys, most severe first\n\n| profile | symbol | failures | skipped signals | episodes | escalations | longest | state | holders |\n|---|---|---:|---:|---:|---:|---:|---|---|\n"
        for k in ranked.prefix(maxRows) {
            let sym = k.symbol
            m += "| \(md(k.profileID)) | \(md(sym.symbol.isEmpty ? "-" : sym.symbol)) | \(sym.failures) | \(sym.skippedSignals) | \(sym.episodes) | \(sym.escalations)\(k.sweptIn ? " (multi_profile)" : "") | \(sym.maxContention.spoken) | \(sym.state.rawValue) | \(md(sym.owners.map(\.owner).joined(separator: ", "))) |\n"
        }
        if ranked.count > maxRows { m += "\n\(Summary.totals(of: ranked.dropFirst(maxRows), ttl: ttl)) (the NDJSON output lists every key).\n" }
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
