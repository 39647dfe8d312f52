// The metrics file: what Prometheus would scrape, checked against the run's own summary.

import Foundation
import Testing
@testable import LockwatchCore

/// Parses the samples of a Prometheus text exposition: name with labels → value.
func samples(_ text: String) -> [String: Double] {
    var out: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
        out[String(line[..<space])] = v
    }
    return out
}

@Suite struct MetricsTests {
    /// Counters equal the summary's failures per key, escalations by reason equal the events,
    /// line counters equal the summary's, and a holder of an open episode is exposed.
    @Test(arguments: ["incident", "persistent-91s", "slow-signals"])
    func metricsFileAgreesWithTheSummary(_ name: String) throws {
        let fixture = Fixture(name: name)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-\(name)-\(getpid()).prom").path
        defer { unlink(path) }
        var configuration = try fixture.configuration()
        configuration.metricsFile = path
        let out = MemorySink()
        let summary = Pipeline(configuration: configuration, sink: JSONPrinter(out: out))
            .run(sources: try fixture.inputs.map { try openInput($0.path) })
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let m = samples(text)
        for p in summary.profiles {
            for s in p.symbols {
                let series = #"entry_lock_contention_total{profile_id="\#(p.profileID)",symbol="\#(s.symbol)"}"#
                #expect(m[series] == Double(s.failures), "\(series)")
            }
        }
        let events = String(decoding: out.bytes, as: UTF8.self).split(separator: "\n")
        for reason in EscalationReason.allCases {
            let fired = events.filter { $0.contains(#""reason":"\#(reason.rawValue)""#) }.count
            #expect(m[#"lockwatch_escalations_total{reason="\#(reason.rawValue)"}"#] == Double(fired))
        }
        #expect(m["lockwatch_lines_read_total"] == Double(summary.counts.lines))
        #expect(m["lockwatch_lines_matched_total"] == Double(summary.counts.matched))
        let open = summary.profiles.flatMap(\.symbols).filter { $0.state == .open }.count
        #expect(m["lockwatch_open_episodes"] == Double(open))
        // Each of these fixtures names the holder of every failure: an open episode has one.
        let holders = m.filter { $0.key.hasPrefix("entry_lock_holder_info{") }
        #expect(holders.count == open)
        #expect(holders.values.allSatisfy { $0 == 1 })
        #expect(!FileManager.default.fileExists(atPath: "\(path).tmp.\(getpid())"), "the temporary file is renamed away")
    }
}
