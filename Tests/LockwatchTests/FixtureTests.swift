// Golden fixtures: every case in fixtures/ run through every path must give the recorded output.
// LOCKWATCH_RECORD=1 rewrites expected.ndjson / expected.txt and fails, so changes are reviewed.

import Foundation
import Testing
@testable import lockwatch
import LockwatchCore

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let fixturesRoot = packageRoot.appendingPathComponent("fixtures")
let recording = ProcessInfo.processInfo.environment["LOCKWATCH_RECORD"] == "1"

/// One fixture directory: its inputs, flags and expected outputs.
struct Fixture: CustomStringConvertible, Sendable {
    let name: String
    var dir: URL { fixturesRoot.appendingPathComponent(name) }
    var description: String { name }

    static var all: [Fixture] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixturesRoot.path)) ?? []
        return names.sorted().filter {
            FileManager.default.fileExists(atPath: fixturesRoot.appendingPathComponent($0).appendingPathComponent("args").path)
        }.map(Fixture.init)
    }

    var args: [String] {
        let text = (try? String(contentsOf: dir.appendingPathComponent("args"), encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    var inputs: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasPrefix("input") }.sorted().map { dir.appendingPathComponent($0) }
    }

    func expected(_ file: String) -> String? { try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) }

    /// The configuration the command would build from this fixture's flags.
    func configuration() throws -> Configuration {
        try Scan.parse(args).makeConfiguration()
    }

    /// The decompressed bytes of every input, for the chunked paths.
    func inputBytes() throws -> [[UInt8]] {
        try inputs.map { url in
            let source = try openInput(url.path)
            var all: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try buf.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { break }
                all.append(contentsOf: buf[0..<n])
            }
            return all
        }
    }
}

/// Serves fixed bytes in a repeating pattern of chunk sizes, as a pipe would.
final class ChunkedSource: ByteSource {
    let bytes: [UInt8]
    let sizes: [Int]
    var offset = 0
    var turn = 0
    let name: String

    init(_ bytes: [UInt8], sizes: [Int], name: String = "-") {
        self.bytes = bytes; self.sizes = sizes; self.name = name
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = min(sizes[turn % sizes.count], buffer.count, bytes.count - offset)
        turn += 1
        guard want > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: want) }
        offset += want
        return want
    }
}

/// Runs the pipeline in-process and returns (ndjson, text).
func runInProcess(_ configuration: Configuration, sources: () throws -> [ByteSource]) throws -> (String, String) {
    let json = MemorySink()
    _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: json)).run(sources: try sources())
    let text = MemorySink()
    _ = Pipeline(configuration: configuration, sink: TextPrinter(out: text, color: false)).run(sources: try sources())
    return (json.text, text.text)
}

@Suite struct FixtureTests {
    @Test func fixturesExist() {
        #expect(Fixture.all.count >= 12)
    }

    @Test(arguments: Fixture.all)
    func matchesGoldenOutput(_ fixture: Fixture) throws {
        let config = try fixture.configuration()
        let (json, text) = try runInProcess(config) { try fixture.inputs.map { try openInput($0.path) } }
        if recording {
            try json.write(to: fixture.dir.appendingPathComponent("expected.ndjson"), atomically: true, encoding: .utf8)
            try text.write(to: fixture.dir.appendingPathComponent("expected.txt"), atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(fixture.name): review the diff, then run the tests again without LOCKWATCH_RECORD")
            return
        }
        #expect(json == fixture.expected("expected.ndjson"), "NDJSON differs for \(fixture.name)")
        #expect(text == fixture.expected("expected.txt"), "text differs for \(fixture.name)")
    }

    /// One input, every path: byte by byte, odd chunks, and a tiny read buffer give the same output.
    @Test(arguments: Fixture.all)
    func everyChunkingGivesTheSameOutput(_ fixture: Fixture) throws {
        guard let golden = fixture.expected("expected.ndjson") else { Issue.record("no golden output"); return }
        let bytes = try fixture.inputBytes()
        let patterns: [[Int]] = [[1], [3, 1, 17, 4093, 2], [65536]]
        for sizes in patterns {
            let (json, _) = try runInProcess(try fixture.configuration()) {
                bytes.map { ChunkedSource($0, sizes: sizes) }
            }
            #expect(json == golden, "chunks \(sizes) differ for \(fixture.name)")
        }
        var tiny = try fixture.configuration()
        tiny.readChunkBytes = 16
        let (json, _) = try runInProcess(tiny) { bytes.map { ChunkedSource($0, sizes: [7, 64]) } }
        #expect(json == golden, "16-byte read buffer differs for \(fixture.name)")
    }
}

@Suite struct ArrivalOrderTests {
    /// Swaps neighbouring lines whose event times differ by less than the lateness: the events
    /// must not change (SPEC section 3, "Order").
    @Test(arguments: Fixture.all.filter { $0.inputs.count == 1 })
    func localReorderingDoesNotChangeTheEvents(_ fixture: Fixture) throws {
        guard let golden = fixture.expected("expected.ndjson") else { Issue.record("no golden output"); return }
        let config = try fixture.configuration()
        let decoder = RecordDecoder(format: config.inputFormat, timestamps: TimestampParser(zone: config.zone),
                                    year: config.year)
        var lines = String(decoding: try fixture.inputBytes()[0], as: UTF8.self).split(separator: "\n").map(String.init)
        let times = lines.map { line -> EventTime? in
            var copy = line
            return copy.withUTF8 { try? decoder.decode(UnsafeRawBufferPointer($0)).get().time }
        }
        var swapped = 0
        var i = 0
        while i + 1 < lines.count {
            if let a = times[i], let b = times[i + 1], a != b, abs((b - a).micros) < config.thresholds.maxLateness.micros {
                lines.swapAt(i, i + 1)
                swapped += 1
                i += 2
            } else {
                i += 1
            }
        }
        if ["incident", "paired-warnings", "persistent-91s"].contains(fixture.name) { #expect(swapped > 0) }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let (json, _) = try runInProcess(config) { [ChunkedSource(bytes, sizes: [4096])] }
        #expect(json == golden, "\(swapped) swaps changed the events of \(fixture.name)")
    }
}
