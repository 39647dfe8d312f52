// One input, every path (as ripgrep's searcher tester does): every fixture run through
// every way in must give its golden output. LOCKWATCH_SEED=N repeats the random paths of a
// failed run (each failure names its seed).

import Foundation
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// The seed of this run's random paths (`TestRandom.runSeed`: LOCKWATCH_SEED, else a new one).
let everyPathSeed = TestRandom.runSeed

/// Every order of `items` (Heap's algorithm).
func permutations<T>(_ items: [T]) -> [[T]] {
    var a = items, out: [[T]] = []
    func generate(_ k: Int) {
        if k <= 1 { out.append(a); return }
        for i in 0..<k {
            generate(k - 1)
            a.swapAt(k % 2 == 0 ? i : 0, k - 1)
        }
    }
    generate(a.count)
    return out
}

/// One way in: a name, and the NDJSON a fixture gives that way together with the output it
/// must equal (the golden output, or the golden output shifted as the input was).
struct Way: Sendable {
    let name: String
    /// nil when the way does not apply to the fixture.
    let run: @Sendable (Fixture, UInt64) throws -> (got: String, want: String)?
}

extension Fixture {
    var golden: String { expected("expected.ndjson") ?? "" }

    /// Each input's lines with their event times (nil for a line without one), as decoded.
    func timedLines() throws -> [[(line: [UInt8], time: EventTime?)]] {
        let config = try configuration()
        let decoder = RecordDecoder(format: config.inputFormat, timestamps: TimestampParser(zone: config.zone), year: config.year)
        return try inputBytes().map { bytes in
            var out: [(line: [UInt8], time: EventTime?)] = []
            var start = 0
            for (i, b) in bytes.enumerated() where b == 10 {
                let line = Array(bytes[start..<i])
                out.append((line, line.withUnsafeBytes { try? decoder.decode($0).get().time }))
                start = i + 1
            }
            if start < bytes.count { out.append((Array(bytes[start...]), nil)) }
            return out
        }
    }
}

enum Ways {
    /// Runs the fixture with its configuration changed by `change`, over sources made by `sources`.
    static func configured(_ name: String, _ change: @escaping @Sendable (inout Configuration) -> Void,
                           sources: @escaping @Sendable (Fixture) throws -> [ByteSource] = { f in
                               try f.inputs.map { try openInput($0.path) }
                           }) -> Way {
        Way(name: name) { f, _ in
            var config = try f.configuration()
            change(&config)
            return (try runJSON(config, sources: try sources(f)), f.golden)
        }
    }

    static func chunked(_ sizes: [Int]) -> Way {
        configured("reads of \(sizes) bytes", { _ in }) { f in
            try zip(f.inputBytes(), f.inputs).map { ChunkedSource($0, sizes: sizes, name: $1.path) }
        }
    }

    static let all: [Way] = [
        configured("a file, whole", { _ in }),
        chunked([1]),
        chunked([3, 1, 17, 4093, 2]),
        chunked([65536]),
        configured("16-byte chunks", { $0.readChunkBytes = 16 }) { f in
            try zip(f.inputBytes(), f.inputs).map { ChunkedSource($0, sizes: [7, 64], name: $1.path) }
        },
        configured("1 thread", { $0.workers = 1 }),
        configured("2 threads", { $0.workers = 2 }),
        configured("4 threads", { $0.workers = 4 }),
        configured("no plain lane", { $0.plainLane = false }),
        configured("no rule shortcuts", { $0.ruleShortcuts = false }),
        configured("neither lane nor shortcuts, 3 threads", { $0.plainLane = false; $0.ruleShortcuts = false; $0.workers = 3 }),
        Way(name: "every order of the inputs", run: everyOrder),
        Way(name: "a paced live pipe", run: pacedPipe),
        Way(name: "arrival jittered within --max-lateness", run: jittered),
        Way(name: "shifted by a year", run: shiftedByAYear),
    ]

    /// The inputs named in every order: ties in event time are broken by what the records
    /// contain, never by argument order (fixtures/equal-times).
    static func everyOrder(_ f: Fixture, _ seed: UInt64) throws -> (got: String, want: String)? {
        guard f.inputs.count > 1 else { return nil }
        for order in permutations(f.inputs) {
            let json = try runJSON(try f.configuration(), sources: try order.map { try openInput($0.path) })
            if json != f.golden { return (json + "(order \(order.map(\.lastPathComponent)))", f.golden) }
        }
        return (f.golden, f.golden)
    }

    /// A live pipe whose lines arrive with pauses (longer than the idle flush, shorter than the
    /// pair window): pairing is decided on event time, not on the arrival rhythm
    /// (fixtures/live-pairing). A pause falls only where nothing is in flight — every line
    /// before it earlier in event time than every line after — since a silent input releases
    /// what ordering holds; a line without a time of its own is never the first of a pause.
    static func pacedPipe(_ f: Fixture, _ seed: UInt64) throws -> (got: String, want: String)? {
        guard f.inputs.count == 1 else { return nil }
        let lines = try f.timedLines()[0]
        let bytes = try f.inputBytes()[0]
        // The first line with no time of its own would take the moment of reading on a pipe.
        guard lines.first?.time != nil || lines.isEmpty else { return nil }
        var starts: [Int] = [], offset = 0
        for l in lines { starts.append(offset); offset += l.line.count + 1 }
        var suffixMin = [EventTime?](repeating: nil, count: lines.count + 1)
        for k in stride(from: lines.count - 1, through: 0, by: -1) {
            suffixMin[k] = [suffixMin[k + 1], lines[k].time].compactMap { $0 }.min()
        }
        var calm: [Int] = [], prefixMax: EventTime? = nil
        for k in 1..<max(1, lines.count) {
            if let t = lines[k - 1].time { prefixMax = max(prefixMax ?? t, t) }
            if lines[k].time == nil { continue }
            if let p = prefixMax, let m = suffixMin[k], p > m { continue }
            calm.append(starts[k])
        }
        let source = f.name == "live-pairing"
            ? PacedSource(bytes, randomPauses: 1000, seed: seed, milliseconds: 30)
            : PacedSource(bytes, randomPauses: min(6, calm.count), seed: seed, among: calm.isEmpty ? [-1] : calm)
        return (try runJSON(try f.configuration(), sources: [source], idleMilliseconds: 5), f.golden)
    }

    /// Neighbouring lines whose event times differ by less than the lateness, swapped at random.
    static func jittered(_ f: Fixture, _ seed: UInt64) throws -> (got: String, want: String)? {
        guard f.inputs.count == 1 else { return nil }
        let config = try f.configuration()
        var lines = try f.timedLines()[0]
        var g = TestRandom(seed: seed)
        var i = 0
        while i + 1 < lines.count {
            if let a = lines[i].time, let b = lines[i + 1].time, a != b,
               abs((b - a).micros) < config.thresholds.maxLateness.micros, Bool.random(using: &g) {
                lines.swapAt(i, i + 1)
                i += 2
            } else {
                i += 1
            }
        }
        let bytes = Array(lines.map(\.line).joined(separator: [10])) + [10]
        return (try runJSON(config, sources: [ChunkedSource(bytes, sizes: [4096])]), f.golden)
    }

    /// Every time in the inputs a calendar year later (and `--year` with them): the findings
    /// are the golden ones a year later. Not for inputs whose times hide in bytes (a journald
    /// MESSAGE stored as an array of byte values).
    static func shiftedByAYear(_ f: Fixture, _ seed: UInt64) throws -> (got: String, want: String)? {
        let inputs = try f.inputBytes()
        guard !inputs.contains(where: { String(decoding: $0, as: UTF8.self).contains(#""MESSAGE":["#) }) else { return nil }
        var config = try f.configuration()
        if let y = config.year { config.year = y + 1 }
        let shifted = inputs.map { Array(YearShift.text(String(decoding: $0, as: UTF8.self)).utf8) }
        let sources = zip(shifted, f.inputs).map { ChunkedSource($0, sizes: [65536], name: $1.path + ".shifted") }
        return (try runJSON(config, sources: sources), YearShift.golden(f.golden))
    }
}

/// Moves the times of a log, and of its findings, a calendar year later (365 days from the
/// fixtures' November 2026: no February 29 in between).
enum YearShift {
    static let seconds: Int64 = 365 * 86_400

    /// ISO dates `2026-…`/`2026/…` and epoch numbers (s, ms, µs, ns) of the fixtures' days.
    static func text(_ s: String) -> String {
        var out = s
        for (pattern, shift) in [(#"\b(20[2-3]\d)([-/]\d\d[-/]\d\d)"#, 0)] {
            let re = try! NSRegularExpression(pattern: pattern)
            let ns = out as NSString
            var result = "", last = 0
            for m in re.matches(in: out, range: NSRange(location: 0, length: ns.length)) {
                result += ns.substring(with: NSRange(location: last, length: m.range.location - last))
                let year = Int(ns.substring(with: m.range(at: 1)))! + 1 + shift
                result += "\(year)" + ns.substring(with: m.range(at: 2))
                last = m.range.location + m.range.length
            }
            out = result + ns.substring(from: last)
        }
        // Epoch numbers: 10 digits of seconds (with a fraction or not), 13, 16 or 19 digits.
        let re = try! NSRegularExpression(pattern: #"(?<![\d.])(1[6-9]\d{8})(\d{3}|\d{6}|\d{9})?(?!\d)"#)
        let ns = out as NSString
        var result = "", last = 0
        for m in re.matches(in: out, range: NSRange(location: 0, length: ns.length)) {
            result += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let secs = Int64(ns.substring(with: m.range(at: 1)))! + seconds
            result += "\(secs)" + (m.range(at: 2).location == NSNotFound ? "" : ns.substring(with: m.range(at: 2)))
            last = m.range.location + m.range.length
        }
        return result + ns.substring(from: last)
    }

    /// The findings a year later: their RFC 3339 times.
    static func golden(_ s: String) -> String {
        let re = try! NSRegularExpression(pattern: #""(20[2-3]\d)(-\d\d-\d\dT)"#)
        let ns = s as NSString
        var result = "", last = 0
        for m in re.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            result += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            result += "\"\(Int(ns.substring(with: m.range(at: 1)))! + 1)" + ns.substring(with: m.range(at: 2))
            last = m.range.location + m.range.length
        }
        return result + ns.substring(from: last)
    }
}

@Suite struct EveryPathTests {
    @Test(arguments: Fixture.all)
    func everyWayInGivesTheGoldenOutput(_ fixture: Fixture) throws {
        #expect(!fixture.golden.isEmpty, "no golden output")
        let seed = everyPathSeed
        var tried = 0
        for way in Ways.all {
            guard let (got, want) = try way.run(fixture, seed) else { continue }
            tried += 1
            #expect(got == want, "\(fixture.name) through \(way.name) differs (LOCKWATCH_SEED=\(seed))")
        }
        #expect(tried >= 12)
    }

    /// The pipeline fuzz target's findings (`fuzz/regressions/pipeline`) give the same output
    /// with the fast paths (plain lane, rule shortcuts) as without, as the target asks.
    @Test func fuzzFindingsGiveTheSameOutputOnEveryPath() throws {
        let dir = packageRoot.appendingPathComponent("fuzz/regressions/pipeline")
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        #expect(!files.isEmpty)
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            func output(fast: Bool) -> String {
                var configuration = Configuration()
                configuration.plainLane = fast
                configuration.ruleShortcuts = fast
                configuration.workers = 1
                let out = MemorySink()
                _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: out)).run(sources: [MemorySource(bytes, name: "fuzz")])
                return String(decoding: out.bytes, as: UTF8.self)
            }
            #expect(output(fast: true) == output(fast: false), "\(file.lastPathComponent)")
        }
    }
}
