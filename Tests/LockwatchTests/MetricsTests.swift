// The metrics file: what Prometheus would scrape, checked against the run's own summary.

import Foundation
import LockwatchTestSupport
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

/// A one-shot HTTP/1.0 GET over a plain socket: the status code and the body.
func httpGet(port: Int, _ path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

@Suite struct MetricsServerTests {
    /// A live pipe with --metrics-listen: /metrics shows the contention and the holder while
    /// the input is still open, /healthz answers, anything else is 404.
    @Test func servesMetricsWhileThePipeIsLive() throws {
        let log = try Data(contentsOf: fixturesRoot.appendingPathComponent("persistent-91s/input.log"))
        let live = try LiveProcess(["--format", "json", "--metrics-listen", ":0"])
        let (process, input, out, err) = (live.process, live.input, live.out, live.err)
        defer { if process.isRunning { process.terminate() } }
        var said = ""
        let started = Date()
        while !said.contains("/metrics\n"), Date().timeIntervalSince(started) < 10 {
            said += String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
        }
        let port = try #require(said.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        input.fileHandleForWriting.write(log)
        // The idle flush releases the records and refreshes the gauges.
        var metrics = ""
        while !metrics.contains("entry_lock_holder_info"), Date().timeIntervalSince(started) < 10 {
            Thread.sleep(forTimeInterval: 0.05)
            metrics = try httpGet(port: port, "/metrics").body
        }
        let m = samples(metrics)
        let key = #"profile_id="3f0a9b44-7c2d-4e8b-b1f0-6a5d2c9e8f10",symbol="BTC-USD""#
        #expect(m["entry_lock_contention_total{\(key)}"] == 4)
        #expect(m[#"entry_lock_holder_info{\#(key),owner="worker-1:a6a3a450"}"#] == 1)
        #expect(m["lockwatch_open_episodes"] == 1)
        #expect(try httpGet(port: port, "/healthz").status == 200)
        #expect(try httpGet(port: port, "/nope").status == 404)
        try input.fileHandleForWriting.close()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
    }
}
