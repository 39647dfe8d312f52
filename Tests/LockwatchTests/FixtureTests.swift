// Golden fixtures: every case in fixtures/ run through every path must give the recorded output.
// LOCKWATCH_RECORD=1 rewrites expected.ndjson / expected.txt and fails, so changes are reviewed.

import Foundation
import LockwatchTestSupport
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

/// A live pipe: fixed bytes that arrive a line at a time, with real pauses before some lines
/// (longer than the idle flush, shorter than the pair window), as `journalctl -f` sends them.
final class PacedSource: ByteSource {
    let bytes: [UInt8]
    /// Offsets (at line starts) before which the writer pauses.
    var pauses: [Int]
    let pauseMilliseconds: Int
    var offset = 0
    /// When the pause at `offset` ends (monotonic nanoseconds), once it has begun.
    private var pauseEnds: UInt64?
    let name = "-"
    var isStream: Bool { true }

    init(_ bytes: [UInt8], pauses: [Int], milliseconds: Int) {
        self.bytes = bytes; self.pauses = pauses.sorted(); pauseMilliseconds = milliseconds
    }

    /// Pauses before `count` random lines among `starts` (every line when nil), chosen by `seed`.
    convenience init(_ bytes: [UInt8], randomPauses count: Int, seed: UInt64, milliseconds: Int = 40, among starts: [Int]? = nil) {
        var starts = starts ?? []
        if starts.isEmpty { for (i, b) in bytes.enumerated() where b == 10 && i + 1 < bytes.count { starts.append(i + 1) } }
        var g = TestRandom(seed: seed)
        let chosen = (0..<min(count, starts.count)).map { _ in starts.randomElement(using: &g)! }
        self.init(bytes, pauses: Array(Set(chosen)), milliseconds: milliseconds)
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    func hasData(within milliseconds: Int32) -> Bool {
        guard offset < bytes.count, pauses.first == offset else { return true }
        let ends = pauseEnds ?? (Self.now() + UInt64(pauseMilliseconds) * 1_000_000)
        pauseEnds = ends
        let wait = UInt64(max(0, Int64(ends) - Int64(Self.now())))
        if wait <= UInt64(milliseconds) * 1_000_000 {
            usleep(UInt32(wait / 1000))
            pauses.removeFirst()
            pauseEnds = nil
            return true
        }
        usleep(UInt32(milliseconds) * 1000)
        return false
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while !hasData(within: 1000) {}
        guard offset < bytes.count else { return 0 }
        // Up to the end of the next line: a writer that sends one line at a time.
        var end = offset
        while end < bytes.count, bytes[end] != 10 { end += 1 }
        end = min(bytes.count, end + 1, offset + buffer.count)
        if let p = pauses.first, p > offset { end = min(end, p) }
        let n = end - offset
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset = end
        return n
    }
}

/// Runs the pipeline in-process and returns (ndjson, text).
func runInProcess(_ configuration: Configuration, sources: () throws -> [ByteSource]) throws -> (String, String) {
    (try runJSON(configuration, sources: try sources()), try runText(configuration, sources: try sources()))
}

/// Runs the pipeline in-process over `sources` and returns its NDJSON; a live pipe flushes
/// what it holds after `idleMilliseconds` of silence, as the command does.
func runJSON(_ configuration: Configuration, sources: [ByteSource], idleMilliseconds: Int32? = nil) throws -> String {
    let json = MemorySink()
    _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: json),
                 environment: RunEnvironment(idleFlushMilliseconds: idleMilliseconds)).run(sources: sources)
    return json.text
}

/// Runs the pipeline in-process over `sources` and returns its text output.
func runText(_ configuration: Configuration, sources: [ByteSource]) throws -> String {
    let text = MemorySink()
    _ = Pipeline(configuration: configuration, sink: TextPrinter(out: text, color: false)).run(sources: sources)
    return text.text
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
}

@Suite struct LivePipeTests {
    /// A CRI partial line whose final part never comes (a container killed mid-line) does not
    /// hold a live pipe: once the pipe has been silent for the hold, it goes on as it is.
    @Test func anUnfinishedPartialLineGoesOnWhenThePipeIsSilent() throws {
        let text = "2026-11-26T14:00:00.000000000Z stderr P WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD\n"
            + "2026-11-26T14:00:05.000000000Z stderr F INFO entry_lock: fn_try_acquire_entry_lock_row returned true profile_id=p2 symbol=ETH-USD\n"
        let bytes = Array(text.utf8)
        var config = Configuration()
        config.thresholds.pairWindow = .seconds(0.05)
        let source = PacedSource(bytes, pauses: [bytes.firstIndex(of: 10)! + 1], milliseconds: 800)
        let json = try runJSON(config, sources: [source], idleMilliseconds: 5)
        #expect(json.contains(#""type":"contention_started","at":"2026-11-26T14:00:00.000Z","profile_id":"p1","symbol":"ETH-USD","#))
    }

    /// A line that comes, after a pause, with an earlier time than lines the pause released is
    /// handled out of order and counted, never silently.
    @Test func aLineOutOfOrderAfterAPauseIsCounted() throws {
        let f = "WARNING entry_lock: fn_try_acquire_entry_lock_row returned false symbol=ETH-USD owner_token=w1"
        let text = "2026-11-26 14:00:10,000 \(f) profile_id=p1\n2026-11-26 14:00:09,500 \(f) profile_id=p2\n"
        let bytes = Array(text.utf8)
        let source = PacedSource(bytes, pauses: [bytes.firstIndex(of: 10)! + 1], milliseconds: 300)
        let pipeline = Pipeline(configuration: Configuration(), sink: JSONPrinter(out: MemorySink()),
                                environment: RunEnvironment(idleFlushMilliseconds: 5))
        let summary = pipeline.run(sources: [source])
        #expect(summary.counts.lateAfterFlush == 1)
    }
}
