import Foundation
@testable import LockwatchCore

/// Events and a summary whose names are the bytes, through every printer: each NDJSON line
/// parses as JSON, and no control byte from a name reaches the text output raw.
enum PrinterTarget {
    // The NDJSON printer keeps nothing of a run but its cache of encoded names, so it is made
    // once (making one is much of a run's cost); the text printer gathers a run's summary.
    nonisolated(unsafe) private static let json = MemorySink()
    nonisolated(unsafe) private static let jsonPrinter = JSONPrinter(out: json)

    static func run(_ data: UnsafeRawBufferPointer) {
        json.removeAll()
        // Names: the bytes cut at 0xFF, as text (invalid UTF-8 as it comes).
        let pieces = data.split(separator: 0xFF, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        func name(_ k: Int) -> Name { Name(pieces.isEmpty ? "" : pieces[k % pieces.count]) }
        let t = EventTime(micros: 1_795_701_600_000_000 + Int64(data.count) * 1_234_567)
        var correlator = Correlator(thresholds: Thresholds(), maxKeys: 8)
        correlator.keepsClosedEpisodes = true
        var alerts: [Alert] = []
        for k in 0..<min(pieces.count, 6) {
            let key = LockKey(profile: name(k), symbol: name(k + 1))
            correlator.apply(.attempt(Attempt(time: t, key: key, owner: name(k + 2), caller: name(k + 3),
                                              expires: EventTime(micros: t.micros - 5_000_000), host: name(k + 4))),
                             into: &alerts)
        }
        let key = LockKey(profile: name(0), symbol: name(1))
        alerts += [
            .ownerStuck(at: t, key: key, owner: name(2), held: .seconds(31), selfHeld: false),
            .ownerStuck(at: t, key: key, owner: name(3), held: .seconds(45), selfHeld: true),
            .recovered(at: t, key: key, since: t, duration: .seconds(1.5), failures: 2, escalated: true),
            .loopUnhealthy(at: t, host: name(3), loop: .trading),
            .escalation(Escalation(at: t, reason: .multiProfile, key: nil, profiles: pieces, since: t, failures: 3, owners: pieces)),
        ]
        let summary = correlator.summary(counts: .init(), firstAt: t, lastAt: t, exit: 1)
        for a in alerts { jsonPrinter.emit(a) }
        jsonPrinter.finish(summary)
        let lines = json.bytes.split(separator: 0x0A)
        if lines.count != alerts.count + 1 { fatalError("\(lines.count) NDJSON lines for \(alerts.count + 1) objects") }
        for line in lines where (try? JSONSerialization.jsonObject(with: Data(line))) == nil {
            fatalError("not a JSON line: \(String(decoding: line, as: UTF8.self))")
        }
        let text = MemorySink()
        let textPrinter = TextPrinter(out: text, color: false)
        for a in alerts { textPrinter.emit(a) }
        textPrinter.finish(summary)
        if let bad = text.bytes.first(where: { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }) {
            fatalError("a control byte \(bad) reached the text output raw")
        }
        // The reports draw a whole page: one input in eight.
        guard data.count % 8 == 0 else { return }
        let report = ReportSink(paths: [], inputs: pieces)
        for a in alerts { report.emit(a) }
        for e in correlator.closedEpisodes + correlator.openEpisodes(at: t) { report.episode(e) }
        for format in [ReportSink.Format.html, .markdown] {
            let page = report.render(summary, as: format)
            if page.utf8.contains(where: { $0 == 0x1B || $0 == 0x00 }) { fatalError("a control byte reached the \(format) report raw") }
        }
    }
}
