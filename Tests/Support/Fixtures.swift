// What the test targets share about fixtures: the cases in fixtures/, sources that deliver
// bytes as files and pipes do, and the pipeline run in-process.
// LOCKWATCH_RECORD=1 makes the golden tests rewrite expected.ndjson / expected.txt.

import Foundation
import LockwatchCore

public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
public let fixturesRoot = packageRoot.appendingPathComponent("fixtures")
public let recording = ProcessInfo.processInfo.environment["LOCKWATCH_RECORD"] == "1"

/// One fixture directory: its inputs, flags and expected outputs.
public struct Fixture: CustomStringConvertible, Sendable {
    public let name: String
    public init(name: String) { self.name = name }
    public var dir: URL { fixturesRoot.appendingPathComponent(name) }
    public var description: String { name }

    public static var all: [Fixture] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixturesRoot.path)) ?? []
        return names.sorted().filter {
            FileManager.default.fileExists(atPath: fixturesRoot.appendingPathComponent($0).appendingPathComponent("args").path)
        }.map { Fixture(name: $0) }
    }

    public var args: [String] {
        let text = (try? String(contentsOf: dir.appendingPathComponent("args"), encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    public var inputs: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasPrefix("input") }.sorted().map { dir.appendingPathComponent($0) }
    }

    public func expected(_ file: String) -> String? { try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) }

    /// The configuration the command would build from this fixture's flags.
    public func configuration() throws -> Configuration {
        try AnalysisOptions.parse(args).makeConfiguration()
    }

    /// The decompressed bytes of every input, for the chunked paths.
    public func inputBytes() throws -> [[UInt8]] {
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
public final class ChunkedSource: ByteSource {
    public let bytes: [UInt8]
    public let sizes: [Int]
    var offset = 0
    var turn = 0
    public let name: String

    public init(_ bytes: [UInt8], sizes: [Int], name: String = "-") {
        self.bytes = bytes; self.sizes = sizes; self.name = name
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
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
public final class PacedSource: ByteSource {
    public let bytes: [UInt8]
    /// Offsets (at line starts) before which the writer pauses.
    public var pauses: [Int]
    public let pauseMilliseconds: Int
    var offset = 0
    /// When the pause at `offset` ends (monotonic nanoseconds), once it has begun.
    private var pauseEnds: UInt64?
    public let name = "-"
    public var isStream: Bool { true }

    public init(_ bytes: [UInt8], pauses: [Int], milliseconds: Int) {
        self.bytes = bytes; self.pauses = pauses.sorted(); pauseMilliseconds = milliseconds
    }

    /// Pauses before `count` random lines among `starts` (every line when nil), chosen by `seed`.
    public convenience init(_ bytes: [UInt8], randomPauses count: Int, seed: UInt64, milliseconds: Int = 40, among starts: [Int]? = nil) {
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

    public func hasData(within milliseconds: Int32) -> Bool {
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

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
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
public func runInProcess(_ configuration: Configuration, sources: () throws -> [ByteSource]) throws -> (String, String) {
    (try runJSON(configuration, sources: try sources()), try runText(configuration, sources: try sources()))
}

/// Runs the pipeline in-process over `sources` and returns its NDJSON; a live pipe flushes
/// what it holds after `idleMilliseconds` of silence, as the command does.
public func runJSON(_ configuration: Configuration, sources: [ByteSource], idleMilliseconds: Int32? = nil) throws -> String {
    let json = MemorySink()
    _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: json),
                 environment: RunEnvironment(idleFlushMilliseconds: idleMilliseconds)).run(sources: sources)
    return json.text
}

/// Runs the pipeline in-process over `sources` and returns its text output, as a batch run
/// over files prints it.
public func runText(_ configuration: Configuration, sources: [ByteSource]) throws -> String {
    let text = MemorySink()
    let printer = TextPrinter.batch(out: text, color: false, ttl: configuration.thresholds.ttl)
    _ = Pipeline(configuration: configuration, sink: printer).run(sources: sources)
    return text.text
}
