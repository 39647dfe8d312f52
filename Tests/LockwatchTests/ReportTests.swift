// Incident reports: the episodes they draw agree with the summary, and both formats carry
// the account.

import Foundation
import LockwatchTestSupport
import Testing
@testable import lockwatch
import LockwatchCore

@Suite struct ReportTests {
    /// On every fixture: one episode drawn per episode the summary counts, each key's latest
    /// in the summary's state, every escalation listed, and the HTML without outside resources.
    @Test(arguments: Fixture.all)
    func theReportAgreesWithTheSummary(_ fixture: Fixture) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let html = dir.appendingPathComponent("r.html").path, md = dir.appendingPathComponent("r.md").path
        let report = ReportSink(paths: [html, md], inputs: fixture.inputs.map(\.lastPathComponent))
        let out = MemorySink()
        let summary = Pipeline(configuration: try fixture.configuration(), sink: TeeSink([JSONPrinter(out: out), report]))
            .run(sources: try fixture.inputs.map { try openInput($0.path) })
        #expect(report.errors.isEmpty)
        for p in summary.profiles {
            for s in p.symbols {
                let mine = report.episodes.filter { $0.key.profile == p.profileID && $0.key.symbol == s.symbol }
                #expect(mine.count == s.episodes, "\(p.profileID)/\(s.symbol)")
                #expect(mine.max { $0.start < $1.start }?.state == s.state, "\(p.profileID)/\(s.symbol)")
                #expect(mine.allSatisfy { $0.start <= $0.end })
                #expect(mine.reduce(0) { $0 + $1.failures } == s.failures)
            }
        }
        let page = try String(contentsOfFile: html, encoding: .utf8)
        let markdown = try String(contentsOfFile: md, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href="))
        #expect(!page.contains("\u{1B}"), "log text cannot put control bytes in the page")
        let events = out.text.split(separator: "\n").filter { $0.contains(#""type":"escalation""#) }
        // Each escalation is a row of the table, with its time, reason and failures.
        for line in events {
            let e = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let row = "| \(e["at"] ?? "") | **\(e["reason"] ?? "")** |"
            #expect(markdown.contains(row), "\(fixture.name): no row for \(line)")
            #expect(markdown.components(separatedBy: "\n").contains { $0.hasPrefix(row) && $0.contains("| \(e["failures"] ?? "") |") })
        }
        #expect(markdown.components(separatedBy: "| **").count - 1 == events.count, "no other escalation rows")
        if !events.isEmpty { #expect(page.contains("What the runbook says")) }
    }
}
