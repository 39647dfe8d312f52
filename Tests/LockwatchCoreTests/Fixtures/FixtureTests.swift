// Golden fixtures: every case in fixtures/ must give its recorded output, run through the
// library with the flags of its `args` file (no command-line tool involved).
// LOCKWATCH_RECORD=1 rewrites expected.ndjson / expected.txt and fails, so changes are reviewed.

import Foundation
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

@Suite struct FixtureTests {
    /// Every directory of fixtures/ is a whole case — flags, an account, inputs and both
    /// golden outputs — so none is skipped by the tests for want of a file.
    @Test func everyFixtureIsWhole() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: fixturesRoot.path).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: fixturesRoot.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }
        #expect(Set(dirs) == Set(Fixture.all.map(\.name)), "directories without an args file")
        #expect(Fixture.all.count >= 12)
        for f in Fixture.all {
            #expect(!f.inputs.isEmpty, "\(f.name): no input")
            #expect(f.expected("about") != nil, "\(f.name): no about")
            #expect(f.expected("expected.ndjson") != nil && f.expected("expected.txt") != nil, "\(f.name): no golden output")
            #expect(throws: Never.self, "\(f.name): its args do not parse") { _ = try f.configuration() }
        }
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
