// `--state`: a run stopped anywhere — split input, SIGTERM, SIGKILL — and continued from its
// state gives the events and the summary of one uninterrupted run, no escalation twice.

import Foundation
import LockwatchTestSupport
import Testing
@testable import lockwatch
import LockwatchCore

/// A journal of `incidents` contention incidents, ten minutes apart, as `journalctl -o json`
/// writes it: per incident one profile blocked for two minutes (stale_lock, owner_stuck,
/// persistent) while a second is contended (multi_profile), warnings paired with failed
/// records, one record a second late, `filler` other lines per incident, and both recoveries.
func incidentJournal(incidents: Int, filler: Int = 10) -> [String] {
    var lines: [String] = []
    let base: Int64 = 1_795_701_600_000_000
    func iso(_ micros: Int64) -> String { EventTime(micros: micros).rfc3339 }
    func line(_ micros: Int64, host: String, _ fields: [(String, String)]) {
        let message = ([("timestamp", iso(micros))] + fields).map { "\\\"\($0.0)\\\":\\\"\($0.1)\\\"" }.joined(separator: ",")
        let n = lines.count + 1
        lines.append(#"{"__CURSOR":"s=5e1f;i=\#(String(n, radix: 16));b=9c;m=\#(String(n, radix: 16));t=1;x=7","__REALTIME_TIMESTAMP":"\#(micros)","_HOSTNAME":"\#(host)","SYSLOG_IDENTIFIER":"trading-worker","MESSAGE":"{\#(message)}"}"#)
    }
    for j in 0..<incidents {
        let t0 = base + Int64(j) * 600_000_000
        let p = "prof-\(j)-a", q = "prof-\(j)-b", owner = "worker-1:\(j)", caller = "worker-2:\(j)"
        var events: [(Int64, String, [(String, String)])] = []
        for k in 0...24 {
            let t = t0 + Int64(k) * 5_000_000
            events.append((t, "worker-2", [("level", "warning"), ("event", "fn_try_acquire_entry_lock_row returned false"),
                                           ("profile_id", p), ("symbol", "ETH-USD"), ("owner_token", owner),
                                           ("caller_token", caller), ("expires_at", iso(t0 + 20_000_000))]))
            events.append((t + 100_000, "worker-2", [("level", "warning"), ("event", "lock acquisition failed"),
                                                     ("profile_id", p), ("symbol", "ETH-USD"), ("action", "skip_signal")]))
        }
        for k in [10, 20, 24] {
            events.append((t0 + Int64(k) * 1_000_000 + 300_000, "worker-3",
                           [("level", "warning"), ("event", "fn_try_acquire_entry_lock_row returned false"),
                            ("profile_id", q), ("symbol", "BTC-USD"), ("owner_token", "worker-4:\(j)"),
                            ("caller_token", "worker-3:\(j)")]))
        }
        events.append((t0 + 40_000_000, "worker-3", [("level", "info"), ("event", "fn_try_acquire_entry_lock_row returned true"),
                                                     ("profile_id", q), ("symbol", "BTC-USD"), ("caller_token", "worker-3:\(j)")]))
        events.append((t0 + 125_000_000, "worker-2", [("level", "info"), ("event", "fn_try_acquire_entry_lock_row returned true"),
                                                      ("profile_id", p), ("symbol", "ETH-USD"), ("caller_token", caller)]))
        for k in 0..<filler {
            events.append((t0 + Int64(k) * 200_000_000 / Int64(max(1, filler)) + 7, "worker-1",
                           [("level", "info"), ("event", "trading loop tick"), ("profile_id", "prof-\(j)-c")]))
        }
        events.sort { $0.0 < $1.0 }
        // The failure at 24.3 s is written after the one at 25 s: within --max-lateness.
        if let late = events.firstIndex(where: { $0.0 == t0 + 24_300_000 }) {
            let e = events.remove(at: late)
            events.insert(e, at: late + 1)
        }
        for (t, host, fields) in events { line(t, host: host, fields) }
    }
    return lines
}

/// The NDJSON lines of a run other than the summary, and the summary.
func eventsAndSummary(_ ndjson: String) -> (events: [Substring], summary: Substring?) {
    let lines = ndjson.split(separator: "\n")
    return (lines.filter { !$0.contains(#""type":"summary""#) }, lines.last { $0.contains(#""type":"summary""#) })
}

/// The `lines`, `cursor` and number of held records of a state file, once it exists.
func savedPosition(_ path: String) -> (lines: Int, cursor: String?, held: Int)? {
    guard let data = FileManager.default.contents(atPath: path),
          let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let lines = obj["lines"] as? Int else { return nil }
    let held = ((obj["reorderer"] as? [String: Any])?["held"] as? [Any])?.count ?? 0
    return (lines, obj["cursor"] as? String, held + ((obj["pairer"] as? [Any])?.count ?? 0))
}

/// The `__CURSOR` of a journald JSON line.
func cursorOf(_ line: String) -> String? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["__CURSOR"] as? String
}

/// Reads a pipe to its end on a thread of its own, so that the writer never blocks.
final class PipeDrain: @unchecked Sendable {
    // `data` is written by the reading thread until `done` is signalled, then only read.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        Thread.detachNewThread { [self] in
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
    }

    /// Everything read, once the writer has closed its end.
    var text: String {
        done.wait()
        done.signal()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Expects the events of `first` then those of `second` to be those of `whole`, and the
/// summary of `second` to be that of `whole`; a difference is shown by its first line.
func expectSameRun(first: String, then second: String, as whole: String, _ what: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let joined = eventsAndSummary(first).events + eventsAndSummary(second).events
    let expected = eventsAndSummary(whole).events
    if joined != expected {
        let k = Array(zip(joined, expected)).firstIndex { $0.0 != $0.1 } ?? min(joined.count, expected.count)
        Issue.record("\(what): \(joined.count) events instead of \(expected.count); event \(k + 1) is \(k < joined.count ? String(joined[k]) : "missing"), expected \(k < expected.count ? String(expected[k]) : "none")",
                     sourceLocation: sourceLocation)
    }
    let summary = eventsAndSummary(second).summary, expectedSummary = eventsAndSummary(whole).summary
    #expect(summary != nil && summary == expectedSummary, "\(what): summaries differ", sourceLocation: sourceLocation)
}

@Suite struct StateTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-state-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// Runs the pipeline in-process over `lines` with `--state` at `state`.
    func run(_ lines: ArraySlice<[UInt8]>, state: String, args: [String] = []) throws -> String {
        var configuration = try Scan.parse(args).makeConfiguration()
        configuration.stateFile = state
        let bytes: [UInt8] = lines.reduce(into: []) { $0 += $1; $0.append(10) }
        let out = MemorySink()
        _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: out))
            .run(sources: [ChunkedSource(bytes, sizes: [4096])])
        return out.text
    }

    /// Every fixture of one input, cut after every line: the first part's events, then the
    /// second part's run from the state, are the events and the summary of the whole.
    @Test(arguments: Fixture.all.filter { $0.inputs.count == 1 && !$0.inputs[0].path.hasSuffix(".gz") })
    func anInputCutAnywhereContinuesFromItsState(_ fixture: Fixture) throws {
        let bytes = [UInt8](try Data(contentsOf: fixture.inputs[0]))
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init).dropLast(bytes.last == 10 ? 1 : 0)
        let whole = try run(lines[...], state: dir.appendingPathComponent("whole-\(fixture.name)").path, args: fixture.args)
        for cut in 0...lines.count {
            let state = dir.appendingPathComponent("\(fixture.name)-\(cut)").path
            let first = try run(lines[..<cut], state: state, args: fixture.args)
            #expect(savedPosition(state)?.lines == cut)
            let second = try run(lines[cut...], state: state, args: fixture.args)
            expectSameRun(first: first, then: second, as: whole, "\(fixture.name) cut after line \(cut)")
        }
    }

    /// A live pipe fed in bursts, each analysed and released before the next: a run killed
    /// (SIGKILL, or stopped with SIGTERM) after burst `stop` and a new run fed the rest from
    /// its state give the events and summary of one run fed every burst.
    @Test(arguments: [(SIGKILL, 2), (SIGKILL, 5), (SIGTERM, 3)])
    func aLivePipeKilledMidIncidentContinues(_ signal: Int32, _ stop: Int) throws {
        let journal = incidentJournal(incidents: 3, filler: 5)
        let bursts = stride(from: 0, to: journal.count, by: 23).map { journal[$0..<min($0 + 23, journal.count)] }
        let args = ["--format", "json", "--state-interval", "0s", "--state"]
        let reference = dir.appendingPathComponent("live-reference").path
        let whole = try feedLive(bursts[...], args: args + [reference], state: reference, linesBefore: 0)
        let state = dir.appendingPathComponent("live-\(signal)-\(stop)").path
        let first = try feedLive(bursts[..<stop], args: args + [state], state: state, linesBefore: 0, thenSignal: signal)
        let saved = try #require(savedPosition(state))
        #expect(saved.lines == bursts[..<stop].reduce(0) { $0 + $1.count })
        #expect(saved.cursor == cursorOf(journal[saved.lines - 1]))
        #expect(first.contains(#""reason":"persistent""#) || stop < 5, "the kill comes after the first escalations")
        let second = try feedLive(bursts[stop...], args: args + [state], state: state, linesBefore: saved.lines)
        expectSameRun(first: first, then: second, as: whole, "killed by signal \(signal) after burst \(stop)")
    }

    /// Feeds bursts to a new lockwatch process, each once the one before is analysed and
    /// released (the state covers it and holds nothing); then closes the input, or sends
    /// `thenSignal`. Returns its output.
    func feedLive(_ bursts: ArraySlice<ArraySlice<String>>, args: [String], state: String, linesBefore: Int,
                  thenSignal: Int32? = nil) throws -> String {
        let live = try LiveProcess(args)
        let out = PipeDrain(live.out), err = PipeDrain(live.err)
        let pid = live.process.processIdentifier, exited = ExitFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if !exited.isSet { kill(pid, SIGKILL) } }
        var lines = linesBefore
        for burst in bursts {
            live.input.fileHandleForWriting.write(Data(burst.map { $0 + "\n" }.joined().utf8))
            lines += burst.count
            let deadline = Date().addingTimeInterval(30)
            while !(savedPosition(state).map { $0.lines == lines && $0.held == 0 } ?? false), Date() < deadline {
                usleep(2_000)
            }
        }
        if let thenSignal { kill(pid, thenSignal) } else { try live.input.fileHandleForWriting.close() }
        live.process.waitUntilExit()
        exited.set()
        try? live.input.fileHandleForWriting.close()
        let text = out.text
        if thenSignal != SIGKILL { #expect(live.process.terminationReason == .exit, "\(err.text)") }
        return text
    }

    /// A batch run SIGKILLed at an arbitrary moment leaves a state that matches what it
    /// printed: a run over the lines after the saved cursor completes it exactly.
    static let batchJournal = incidentJournal(incidents: 200, filler: 200)

    @Test(arguments: [0.05, 0.3, 0.5, 0.8])
    func aBatchRunKilledAnywhereContinues(_ after: Double) throws {
        let journal = Self.batchJournal
        let log = dir.appendingPathComponent("journal-\(after).json")
        try Data(journal.map { $0 + "\n" }.joined().utf8).write(to: log)
        let reference = dir.appendingPathComponent("batch-reference-\(after)").path
        let whole = try runLockwatch(["--format", "json", "--state", reference, log.path]).stdout

        let state = dir.appendingPathComponent("batch-\(after)").path
        let process = Process()
        process.executableURL = lockwatchBinary
        process.arguments = ["--format", "json", "--state-interval", "0.1s", "--state", state, log.path]
        // Output to a file, as the unit sends it to /dev/null: a write never waits for a
        // reader. (Into a pipe whose reader stalls, events written at the instant of the kill
        // come again from the next run: at least once, never lost.)
        let outFile = dir.appendingPathComponent("first-\(after).ndjson")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(useconds_t(after * 1_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let first = try String(contentsOf: outFile, encoding: .utf8)
        let saved = savedPosition(state) ?? (0, nil, 0)
        if saved.lines > 0 { #expect(saved.cursor == cursorOf(journal[saved.lines - 1])) }
        let rest = dir.appendingPathComponent("rest-\(after).json")
        try Data(journal[saved.lines...].map { $0 + "\n" }.joined().utf8).write(to: rest)
        let second = try runLockwatch(["--format", "json", "--state", state, rest.path]).stdout
        expectSameRun(first: first, then: second, as: whole, "killed after \(after) s at line \(saved.lines) of \(journal.count)")
    }

    /// The metrics of a continued run go on from the saved counters: contention per key and
    /// escalations by reason equal those of one uninterrupted run, lines read too.
    @Test func metricsContinueFromTheState() throws {
        let journal = incidentJournal(incidents: 2, filler: 3).map { Array($0.utf8) }
        func metrics(_ lines: ArraySlice<[UInt8]>, state: String) throws -> [String: Double] {
            let path = dir.appendingPathComponent("metrics.prom").path
            var configuration = Configuration()
            configuration.stateFile = state
            configuration.metricsFile = path
            _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: MemorySink()))
                .run(sources: [ChunkedSource(lines.reduce(into: []) { $0 += $1; $0.append(10) }, sizes: [4096])])
            return samples(try String(contentsOfFile: path, encoding: .utf8))
        }
        let whole = try metrics(journal[...], state: dir.appendingPathComponent("m-whole").path)
        let state = dir.appendingPathComponent("m-cut").path
        _ = try metrics(journal[..<70], state: state)
        let continued = try metrics(journal[70...], state: state)
        for (series, value) in whole where series.hasPrefix("entry_lock_contention_total{")
            || series.hasPrefix("lockwatch_escalations_total{") || series == "lockwatch_lines_read_total"
            || series == "lockwatch_skipped_signals_total" {
            #expect(continued[series] == value, "\(series)")
        }
        #expect(whole[#"lockwatch_escalations_total{reason="persistent"}"#] == 2)
    }

    /// A state file that is not one is set aside, said so, counted as an error (exit 2), and
    /// the run still analyses its input and saves a new state.
    @Test func anUnusableStateIsSetAside() throws {
        let state = dir.appendingPathComponent("garbage").path
        try Data("{\"version\":1,\"lines\":\"many\"}".utf8).write(to: URL(fileURLWithPath: state))
        // The journal then starts from now, as the run that sets it aside does: not from the
        // beginning, which would replay every escalation of its history.
        let resume = try runLockwatch(["--state", state, "--journalctl-args"])
        #expect(resume.stdout == "--since=now\n" && resume.status == 2, "\(resume.stdout)")
        let input = fixturesRoot.appendingPathComponent("incident/input.log").path
        let r = try runLockwatch(["--format", "json", "--state", state, input])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(state): not a lockwatch state file"), "\(r.stderr)")
        #expect(r.stderr.contains("set aside as \(state).unusable"))
        #expect(FileManager.default.fileExists(atPath: state + ".unusable"))
        #expect(r.stdout.contains(#""reason":"persistent""#))
        #expect(savedPosition(state)?.lines == 21)
    }

    /// `--journalctl-args` tells journalctl where to resume: from now without a state, after
    /// the saved cursor with one; the run itself says the same on stderr when it starts.
    @Test func journalctlResumesAfterTheSavedCursor() throws {
        let state = dir.appendingPathComponent("cursor").path
        #expect(try runLockwatch(["--state", state, "--journalctl-args"]).stdout == "--since=now\n")
        let input = fixturesRoot.appendingPathComponent("incident/input.log").path
        _ = try runLockwatch(["--state", state, input])
        let cursor = "s=4f1c;i=36;b=77aa;m=1;t=1;x=2"
        #expect(try runLockwatch(["--state", state, "--journalctl-args"]).stdout == "--after-cursor=\(cursor)\n")
        let again = try runLockwatch(["--state", state], stdin: [])
        #expect(again.stderr.contains("journalctl --after-cursor='\(cursor)'"), "\(again.stderr)")
        #expect(again.stderr.contains("lines read 21, open episodes 1"))
    }

    /// The state follows one input: several are refused as bad usage.
    @Test func theStateFollowsOneInput() throws {
        let input = fixturesRoot.appendingPathComponent("incident/input.log").path
        let r = try runLockwatch(["--state", dir.appendingPathComponent("two").path, input, input])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--state follows one input"))
    }
}
