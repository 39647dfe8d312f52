// The built command, run as a user would: files, stdin, exit status, flags.

import Foundation
import LockwatchTestSupport
import Testing
import LockwatchCore

/// The lockwatch binary beside the test bundle.
let lockwatchBinary: URL = {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("lockwatch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug/lockwatch")
}()

struct CommandResult {
    var stdout: String
    var stderr: String
    var status: Int32
}

/// Runs the binary with `args`, feeding `stdin` through a pipe in chunks of `chunk` bytes.
func runLockwatch(_ args: [String], stdin: [UInt8]? = nil, chunk: Int = 1 << 20,
                  executable: URL = lockwatchBinary, environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = args
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        let writer = input.fileHandleForWriting
        Thread.detachNewThread {
            var offset = 0
            while offset < stdin.count {
                let end = min(offset + chunk, stdin.count)
                guard (try? writer.write(contentsOf: Data(stdin[offset..<end]))) != nil else { break }
                offset = end
            }
            try? writer.close()
        }
    }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(stdout: String(decoding: stdoutData, as: UTF8.self),
                         stderr: String(decoding: stderrData, as: UTF8.self), status: process.terminationStatus)
}

/// Set once a child process has been waited for, so that a watchdog does not signal a reused pid.
final class ExitFlag: @unchecked Sendable {
    // `value` is guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// A lockwatch process on a live pipe: stdin stays open until the test closes it.
struct LiveProcess {
    let process = Process()
    let input = Pipe(), out = Pipe(), err = Pipe()

    init(_ args: [String]) throws {
        process.executableURL = lockwatchBinary
        process.arguments = args
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }
}

/// A directory of its own for one test's files (`defer { dir.remove() }`).
struct ScratchDirectory {
    let url: URL
    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The `exit` the summary line reports.
func summaryExit(_ ndjson: String) -> Int32? {
    guard let last = ndjson.split(separator: "\n").last,
          let obj = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else { return nil }
    return (obj["exit"] as? Int).map(Int32.init)
}

@Suite struct CommandTests {
    @Test(arguments: Fixture.all)
    func fileAndStdinGiveTheGoldenOutput(_ fixture: Fixture) throws {
        guard let golden = fixture.expected("expected.ndjson") else { Issue.record("no golden output"); return }
        let files = fixture.inputs.map(\.path)
        let viaFiles = try runLockwatch(["--format", "json"] + fixture.args + files)
        #expect(viaFiles.stdout == golden)
        #expect(viaFiles.status == summaryExit(golden))

        // The first input through stdin (decompressed, as zcat would give it), the rest as files.
        let firstBytes = try fixture.inputBytes()[0]
        let viaStdin = try runLockwatch(["--format", "json"] + fixture.args + ["-"] + files.dropFirst(), stdin: firstBytes, chunk: 333)
        #expect(viaStdin.stdout == golden)
        #expect(viaStdin.status == viaFiles.status)

        let text = try runLockwatch(fixture.args + files)
        #expect(text.stdout == fixture.expected("expected.txt"))
    }

    /// Text events: a batch run over files prints the notable ones and counts the rest; a live
    /// pipe prints every event, as `--events all` does for a file; `--summary 1` bounds the keys.
    @Test func textEventsFollowTheKindOfInput() throws {
        let file = fixturesRoot.appendingPathComponent("incident/input.log").path
        let log = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let batch = try runLockwatch([file]), piped = try runLockwatch(["-"], stdin: log, chunk: 333)
        let all = try runLockwatch(["--events", "all", file])
        #expect(!batch.stdout.contains("contention started"))
        #expect(batch.stdout.contains("not printed above: 2 contention starts, 1 recovery within one TTL (--events all prints them)"))
        #expect(piped.stdout.components(separatedBy: "contention started").count == 3)
        #expect(piped.stdout == all.stdout)
        #expect(batch.status == 1 && piped.status == 1)
        let one = try runLockwatch(["--summary", "1", file])
        #expect(one.stdout.contains("    1 more key in 1 profile with contention (1 escalated, 0 still open): 1 failure, the longest 8s (--summary full lists them)"))
        let bad = try runLockwatch(["--summary", "0", file])
        #expect(bad.status == 2 && bad.stderr.contains("--summary"))
    }

    /// A journald entry read again is counted once and, like other set-aside lines, named
    /// `file:line`: each line named repeats the cursor of a line before it.
    @Test func entriesReadAgainAreNamed() throws {
        let file = fixturesRoot.appendingPathComponent("collectors/input-journal.json").path
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let run = try runLockwatch([file])
        let named = run.stderr.split(separator: "\n").filter { $0.contains("a journald entry read again") }
        #expect(!named.isEmpty && named.count <= 5, "\(run.stderr)")
        for note in named {
            let after = try #require(note.range(of: file + ":"), "\(note)").upperBound
            let number = try #require(Int(note[after...].prefix { $0.isNumber }), "\(note)")
            let cursor = try #require(cursorOf(String(lines[number - 1])))
            #expect(lines[..<(number - 1)].contains { cursorOf(String($0)) == cursor }, "\(note)")
        }
        #expect(run.stderr.contains("journald entries were read again (the same __CURSOR) and counted once"))
    }

    /// A lock line with no time of its own never takes the wall clock in a file: it takes the
    /// last timed line's time, or with none before it is set aside and counted; only a pipe
    /// that never carried a time uses the moment of reading. Regression: a traceback's lock
    /// line once opened an episode dated the day of the run.
    /// Under a tight address-space limit (`ulimit -v`), the table of names reserves what it
    /// may instead of failing at start-up.
    @Test func runsUnderATightAddressSpaceLimit() throws {
        let line = "2026-11-26 14:00:00,000 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=S owner_token=w1\n"
        let r = try runLockwatch(["-c", #"ulimit -v 800000 && exec "$0" --format json"#, lockwatchBinary.path],
                                 stdin: Array(line.utf8), executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#""type":"contention_started""#), "\(r.stdout)")
    }

    @Test func aLineWithoutATimeNeverTakesTheClockInAFile() throws {
        let dir = try ScratchDirectory("untimed")
        defer { dir.remove() }
        let log = dir.url.appendingPathComponent("worker.log")
        let busy = "worker.lock.LockBusy: lock acquisition failed profile_id=p1 symbol=ETH-USD\n"
        try Data((busy + "2026-11-26 14:00:00,000 INFO tick\nTraceback (most recent call last):\n" + busy).utf8).write(to: log)
        let first = try runLockwatch(["--format", "json", log.path])
        sleep(1)
        let second = try runLockwatch(["--format", "json", log.path])
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.contains(#""type":"contention_started","at":"2026-11-26T14:00:00.000Z""#))
        #expect(first.stdout.components(separatedBy: "contention_started").count == 2)
        #expect(first.stderr.contains("worker.log:1: a lock record with no time, and no timed line before it; set aside"))
        #expect(first.stderr.contains("note: 1 record had no time of its own"))
        let cat = try runLockwatch(["--format", "json"], stdin: Array(busy.utf8))
        #expect(cat.stdout.contains("contention_started"), "a timeless pipe still uses the moment it is read")
        #expect(cat.stderr.contains("stamped with the moment it was read"))
        // A pipe that starts inside a traceback (`tail -n N | lockwatch`) and then carries times
        // gives the file's bytes: its first lock line waits, then is set aside.
        let piped = try runLockwatch(["--format", "json"], stdin: Array(try Data(contentsOf: log)), chunk: 7)
        #expect(piped.stdout == first.stdout)
        #expect(piped.stderr.contains("-:1: a lock record with no time, and no timed line before it; set aside"))
    }

    /// A lock line that starts with a date and time that is none (month 13) has no time of its
    /// own: it takes the last timed line's, and the run names and counts it.
    @Test func aMalformedTimeIsNamedAndCounted() throws {
        let dir = try ScratchDirectory("badtime")
        defer { dir.remove() }
        let log = dir.url.appendingPathComponent("worker.log")
        let f = "WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD owner_token=w1"
        try Data("2026-11-26 14:00:00,000 INFO tick\n2027-13-45 99:00:00,000 \(f)\n".utf8).write(to: log)
        let r = try runLockwatch(["--format", "json", log.path])
        #expect(r.stdout.contains(#""type":"contention_started","at":"2026-11-26T14:00:00.000Z""#))
        #expect(r.stderr.contains("worker.log:2: its time is not a valid date and time"))
        #expect(r.stderr.contains("note: 1 lock line started with a date and time that is none"))
    }

    /// Syslog times crossing New Year keep counting forward, within one file (`--year` is the
    /// year of the first line) and across the rotated files of one log, named in either order.
    /// Regression: the January line landed a year before the December one.
    @Test func rotatedSyslogFilesCrossNewYearInEitherOrder() throws {
        let dir = try ScratchDirectory("newyear")
        defer { dir.remove() }
        let line = " worker-2 trading-worker[10]: WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p1 symbol=ETH-USD owner_token=w1 caller_token=w2\n"
        let older = dir.url.appendingPathComponent("worker.log.1"), newer = dir.url.appendingPathComponent("worker.log")
        try Data(("Dec 31 23:59:50" + line).utf8).write(to: older)
        try Data(("Jan  1 00:00:20" + line).utf8).write(to: newer)
        func span(_ args: [String]) throws -> (String, String) {
            let out = try runLockwatch(["--format", "json"] + args).stdout
            let obj = try JSONSerialization.jsonObject(with: Data(out.split(separator: "\n").last!.utf8)) as! [String: Any]
            return (obj["first_at"] as! String, obj["last_at"] as! String)
        }
        for args in [[older.path, newer.path], [newer.path, older.path]] {
            #expect(try span(["--year", "2026"] + args) == ("2026-12-31T23:59:50.000Z", "2027-01-01T00:00:20.000Z"))
            let (first, last) = try span(args)
            #expect(first.hasSuffix("-12-31T23:59:50.000Z") && last.hasSuffix("-01-01T00:00:20.000Z"))
            #expect(Int(first.prefix(4))! + 1 == Int(last.prefix(4))!, "\(args): \(first) then \(last)")
        }
    }

    /// A gzip stream on stdin is inflated, as a gzip file is (`cat x.log.gz | lockwatch`).
    @Test func gzipOnStdinIsDecompressed() throws {
        let gz = try #require(Fixture.all.first { $0.name == "merged-files" }?.inputs.first { $0.pathExtension == "gz" })
        let viaFile = try runLockwatch(["--format", "json", gz.path])
        let viaStdin = try runLockwatch(["--format", "json"], stdin: Array(try Data(contentsOf: gz)), chunk: 100)
        #expect(viaStdin.stdout == viaFile.stdout)
        #expect(viaStdin.stdout.contains("contention_started"))
        let cut = try runLockwatch(["--format", "json"], stdin: Array(try Data(contentsOf: gz).prefix(200)))
        #expect(cut.stderr.contains("-: truncated gzip data") && cut.status == 2)
    }

    @Test func unreadableInputIsReportedAndTheOthersStillRead() throws {
        let good = fixturesRoot.appendingPathComponent("persistent-91s/input.log").path
        let r = try runLockwatch(["--format", "json", "/nonexistent/worker.log", good, fixturesRoot.path])
        #expect(r.stderr.contains("/nonexistent/worker.log: No such file or directory"))
        #expect(r.stderr.contains("\(fixturesRoot.path): is a directory"))
        #expect(r.stdout.contains("\"reason\":\"persistent\""))
        #expect(r.status == 2)
        #expect(summaryExit(r.stdout) == 2)
    }

    /// A file the user may not read: one line naming it and why, the others still read, exit 2.
    /// (Run as root, the command drops to nobody, since root may read anything.)
    @Test func permissionDeniedIsReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-perm-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("secret.log"), open = dir.appendingPathComponent("open.log")
        try Data("x\n".utf8).write(to: secret)
        try Data(contentsOf: fixturesRoot.appendingPathComponent("persistent-91s/input.log")).write(to: open)
        chmod(secret.path, 0o000)
        chmod(open.path, 0o644)
        chmod(dir.path, 0o755)
        var args = ["--format", "json", secret.path, open.path]
        if getuid() == 0 {
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "root needs setpriv to drop to nobody")
            args = ["--reuid=65534", "--regid=65534", "--clear-groups", lockwatchBinary.path] + args
        }
        let r = try runLockwatch(args, executable: getuid() == 0 ? URL(fileURLWithPath: "/usr/bin/setpriv") : lockwatchBinary)
        #expect(r.stderr.contains("\(secret.path): Permission denied"))
        #expect(r.stdout.contains("\"reason\":\"persistent\""))
        #expect(r.status == 2)
    }

    @Test func truncatedGzipIsReportedWithWhatCouldBeRead() throws {
        let gz = fixturesRoot.appendingPathComponent("merged-files/input-1-worker1.log.1.gz")
        let data = try Data(contentsOf: gz)
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-truncated-\(getpid()).gz")
        try data.prefix(data.count - 12).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        let r = try runLockwatch(["--format", "json", cut.path])
        #expect(r.stderr.contains("truncated gzip data"))
        #expect(r.status == 2)
    }

    @Test func badUsageExitsTwo() throws {
        let r = try runLockwatch(["--ttl", "soon"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--ttl"))
    }

    /// A live pipe shows the escalation as soon as the lines are in, not at end of input.
    @Test func livePipeWritesEventsBeforeInputEnds() throws {
        let log = try Data(contentsOf: fixturesRoot.appendingPathComponent("persistent-91s/input.log"))
        let live = try LiveProcess(["--format", "json"])
        let (process, input, out) = (live.process, live.input, live.out)
        let started = Date()
        input.fileHandleForWriting.write(log)
        // Input stays open: only the idle flush can release what the watermark holds.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("\"persistent\""), Date().timeIntervalSince(started) < 10 {
            seen.append(out.fileHandleForReading.availableData)
        }
        let elapsed = Date().timeIntervalSince(started)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(String(decoding: seen, as: UTF8.self).contains("\"persistent\""))
        #expect(elapsed < 1.0, "escalation took \(elapsed) s to appear")
    }

    /// Records that ordering releases as the input goes on (not at an idle flush) reach the
    /// output while the pipe is still open: the consumer's batches end at each chunk.
    @Test func livePipeWritesEventsTheWatermarkReleases() throws {
        let fixture = fixturesRoot.appendingPathComponent("persistent-91s/input.log")
        var log = try String(contentsOf: fixture, encoding: .utf8)
        // A record 14 s after the last moves the watermark past the escalating attempt.
        let last = log.split(separator: "\n").last.map(String.init) ?? ""
        log += last.replacingOccurrences(of: "2026-11-26T14:01:31.200000Z", with: "2026-11-26T14:01:45.000000Z")
            .replacingOccurrences(of: "1795701691203000", with: "1795701705000000")
            .replacingOccurrences(of: "3f0a9b44", with: "0000aaaa")
            .replacingOccurrences(of: "i=9;", with: "i=10;") + "\n"  // another entry: another cursor
        let live = try LiveProcess(["--format", "json", "--idle-flush", "1h"])
        let (process, input, out) = (live.process, live.input, live.out)
        // Read aside, so that output that never comes fails the test instead of hanging it.
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var data = Data()
            var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
        }
        let seen = Seen()
        out.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            seen.lock.withLock { seen.data.append(d) }
        }
        let started = Date()
        input.fileHandleForWriting.write(Data(log.utf8))
        while !seen.text.contains("\"persistent\""), Date().timeIntervalSince(started) < 5 { usleep(2_000) }
        let elapsed = Date().timeIntervalSince(started)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        #expect(seen.text.contains("\"persistent\""))
        #expect(elapsed < 1.0, "escalation took \(elapsed) s to appear")
    }

    @Test func closedStdoutEndsQuietly() throws {
        let big = (0..<20000).map { i in
            "2026-11-26 14:00:\(String(format: "%02d", i % 60)),000 WARNING trading_loop: lock acquisition failed profile_id=p\(i)"
        }.joined(separator: "\n")
        let live = try LiveProcess(["--format", "json"])
        let (process, input, out, err) = (live.process, live.input, live.out, live.err)
        try out.fileHandleForReading.close()
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: Data(big.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!stderr.contains("Broken pipe"))
        #expect(!stderr.lowercased().contains("error"))
        #expect(process.terminationReason == .exit)
    }

    /// SIGINT or SIGTERM in a live pipe: what was read is finished, the summary printed, and
    /// the exit status is the normal one (the incident escalates: 1).
    @Test(arguments: [SIGINT, SIGTERM])
    func aStopSignalEndsWithTheSummary(_ sig: Int32) throws {
        let log = try Data(contentsOf: fixturesRoot.appendingPathComponent("incident/input.log"))
        let live = try LiveProcess(["--format", "json"])
        let (process, input, out, err) = (live.process, live.input, live.out, live.err)
        input.fileHandleForWriting.write(log)
        // The input stays open; once events are out, the run is interrupted.
        var seen = Data()
        let started = Date()
        while !String(decoding: seen, as: UTF8.self).contains("escalation"), Date().timeIntervalSince(started) < 10 {
            seen.append(out.fileHandleForReading.availableData)
        }
        kill(process.processIdentifier, sig)
        // A process that ignores the request fails the test instead of hanging it.
        let pid = process.processIdentifier, exited = ExitFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { if !exited.isSet { kill(pid, SIGKILL) } }
        seen.append(out.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        exited.set()
        try? input.fileHandleForWriting.close()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = String(decoding: seen, as: UTF8.self).split(separator: "\n")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1)
        #expect(lines.last?.contains("\"type\":\"summary\"") == true)
        #expect(stderr.contains("stopped by \(sig == SIGINT ? "SIGINT" : "SIGTERM")"))
    }
}
