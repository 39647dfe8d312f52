// Reporting: the live view — a terminal screen redrawn about once a second while a live pipe
// is read: open episodes, escalations so far, the last events; the summary when it ends.

import DequeModule

/// A full-screen view of a run, for a person watching a terminal during an incident.
///
/// It is a sink (the events) and an observer (the correlator's open episodes, about once a
/// second). The printer it wraps writes nothing until the end, then the summary in the
/// chosen format, after the screen is left.
public final class LiveView: Sink, PipelineObserver {
    let out: ByteSink
    let color: Bool
    let ttl: TimeSpan
    /// The terminal's size (rows, columns), asked at each redraw.
    let size: () -> (rows: Int, cols: Int)
    /// The printer whose summary ends the run; what it writes before is dropped.
    private let printer: Sink
    private let gate: GatedSink
    private var lastEvents: Deque<(text: String, escalation: Bool)> = []
    private var escalationsByReason: [EscalationReason: Int] = [:]
    private var open: [OpenEpisode] = []
    private var counts = Summary.Counts()
    private var latest: EventTime?
    private var started = false

    struct OpenEpisode {
        var key: LockKey
        var start: EventTime
        var lastFailure: EventTime
        var failures: Int
        var owners: [String]
        var fired: [EscalationReason]
    }

    /// - Parameters:
    ///   - makePrinter: builds the printer of the final summary on the sink it is given.
    public init(out: ByteSink, color: Bool, ttl: TimeSpan, size: @escaping () -> (rows: Int, cols: Int),
                makePrinter: (ByteSink) -> Sink) {
        self.out = out
        self.color = color
        self.ttl = ttl
        self.size = size
        gate = GatedSink(out)
        printer = makePrinter(gate)
    }

    /// Enters the terminal's alternate screen and draws the first frame.
    public func start() {
        started = true
        out.write("\u{1B}[?1049h\u{1B}[?25l")
        draw()
    }

    public var isClosed: Bool { out.isClosed }

    public func emit(_ alert: Alert) {
        printer.emit(alert)
        if case .escalation(let e) = alert { escalationsByReason[e.reason, default: 0] += 1 }
        if case .escalation = alert { lastEvents.append((Self.line(alert), true)) } else { lastEvents.append((Self.line(alert), false)) }
        if lastEvents.count > 50 { lastEvents.removeFirst() }
    }

    public func flush() {}

    public func refresh(correlator: Correlator, counts: Summary.Counts, latest: EventTime?) {
        self.counts = counts
        self.latest = latest
        open = correlator.openEpisodeSnapshots().map {
            OpenEpisode(key: $0.key, start: $0.start, lastFailure: $0.lastFailure, failures: $0.failures,
                        owners: $0.owners.map(\.string), fired: $0.fired)
        }.sorted { ($0.start, $0.key) < ($1.start, $1.key) }
        if started { draw() }
    }

    /// Leaves the screen, then the printer writes the summary.
    public func finish(_ summary: Summary) {
        if started { out.write("\u{1B}[?25h\u{1B}[?1049l") }
        out.flush()
        gate.open = true
        printer.finish(summary)
        printer.flush()
    }

    private func draw() {
        out.write("\u{1B}[H\u{1B}[2J" + render(rows: size().rows, cols: size().cols))
        out.flush()
    }

    private func paint(_ s: String, _ code: String) -> String { TextPrinter.paint(s, code, when: color) }

    /// The screen's text for a terminal of this size (lines cut to the width; the events
    /// fill what room is left).
    func render(rows: Int, cols: Int) -> String {
        var lines: [String] = []
        let escalations = escalationsByReason.values.reduce(0, +)
        var head = "lockwatch live · \(open.count) open episode\(open.count == 1 ? "" : "s") · \(escalations) escalation\(escalations == 1 ? "" : "s")"
        if let latest { head += " · event time \(latest.rfc3339)" }
        head += " · \(counts.lines) lines, \(counts.matched) records · q quits"
        lines.append(paint(cut(head, cols), "1"))
        lines.append("")
        lines.append(paint(cut(pad("OPEN EPISODES", 44) + pad("AGE", 18) + pad("HOLDER", 22) + pad("FAILURES", 10) + "ESCALATED", cols), "1"))
        let room = max(3, (rows - 8) / 2)
        if open.isEmpty { lines.append("  none") }
        for e in open.prefix(room) {
            let age = (latest ?? e.lastFailure) - e.start
            let cycles = ttl.micros > 0 ? Double(age.micros) / Double(ttl.micros) : 0
            var row = pad(TextPrinter.escaped(e.key.label).elided(to: 42), 44) + pad("\(Int(age.seconds))s  \(String(format1(cycles))) TTL", 18)
            row += pad(e.owners.map(TextPrinter.escaped).joined(separator: ",").elided(to: 20), 22) + pad("\(e.failures)", 10)
            row += e.fired.map(\.rawValue).joined(separator: " ")
            lines.append(e.fired.isEmpty ? cut(row, cols) : paint(cut(row, cols), "31"))
        }
        if open.count > room { lines.append("  … \(open.count - room) more") }
        lines.append("")
        let byReason = EscalationReason.allCases.map { "\($0.rawValue) \(escalationsByReason[$0] ?? 0)" }.joined(separator: " · ")
        lines.append(paint(cut("ESCALATIONS SO FAR  \(byReason)", cols), escalations > 0 ? "1;31" : "1"))
        lines.append("")
        lines.append(paint("LAST EVENTS", "1"))
        let left = max(1, rows - lines.count - 1)
        for l in lastEvents.suffix(left) { lines.append(l.escalation ? paint(cut(l.text, cols), "1;31") : cut(l.text, cols)) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// An event as one short line.
    static func line(_ alert: Alert) -> String {
        let at = String(alert.at.rfc3339.dropFirst(11).dropLast())
        func key(_ k: LockKey) -> String { "\(TextPrinter.escaped(k.profile)) \(k.symbol.isEmpty ? "-" : TextPrinter.escaped(k.symbol))" }
        switch alert {
        case let .contentionStarted(_, k, owner, _, _): return "\(at) started    \(key(k)) holder \(owner.map { TextPrinter.escaped($0.string) } ?? "?")"
        case let .escalation(e):
            return "\(at) ESCALATION \(e.reason.rawValue) " + (e.key.map(key) ?? e.profiles.map(TextPrinter.escaped).joined(separator: ","))
        case let .ownerStuck(_, k, owner, held, _): return "\(at) stuck      \(key(k)) \(TextPrinter.escaped(owner.string)) held \(Int(held.seconds))s"
        case let .recovered(_, k, _, duration, _, _): return "\(at) recovered  \(key(k)) after \(Int(duration.seconds))s"
        case let .loopUnhealthy(_, host, loop): return "\(at) unhealthy  \(TextPrinter.escaped(host.string)) \(loop.rawValue) loop"
        }
    }

    private func format1(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private func cut(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(max(0, n))) : s }
}

extension String {
    /// At most `n` characters: the middle of a longer text gives way to `…`.
    func elided(to n: Int) -> String {
        count <= n ? self : String(prefix(n / 2 - 1)) + "…" + String(suffix(n - n / 2))
    }
}

/// Drops what is written to it until opened.
final class GatedSink: ByteSink {
    let inner: ByteSink
    var open = false
    init(_ inner: ByteSink) { self.inner = inner }
    func write(_ bytes: UnsafeRawBufferPointer) { if open { inner.write(bytes) } }
    func flush() { if open { inner.flush() } }
    var isClosed: Bool { inner.isClosed }
}
