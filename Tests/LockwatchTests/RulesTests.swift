// Rules files, `lockwatch rules`, `explain` and `test`: a team's own wording without a rebuild.

import Foundation
import LockwatchTestSupport
import Testing
@testable import lockwatch
import LockwatchCore

@Suite struct RulesTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lockwatch-rules-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// `rules show` is the built-in rule set: read back as a rules file it gives every
    /// fixture its golden output.
    @Test func theBuiltInRulesReadBackFromTheirFile() throws {
        let file = try RulesFile.parse(DefaultRules.asRulesFile, file: "defaults.yml")
        #expect(file.replaceDefaults)
        #expect(file.rules.map(\.name) == DefaultRules.specs.map(\.name))
        #expect(file.rules.map(\.regex.pattern) == DefaultRules.specs.map(\.pattern))
        #expect(file.rules.map(\.literals) == DefaultRules.specs.map(\.literals))
        for fixture in Fixture.all {
            var configuration = try fixture.configuration()
            configuration.rules = file.effectiveRules
            let (json, _) = try runInProcess(configuration) { try fixture.inputs.map { try openInput($0.path) } }
            #expect(json == fixture.expected("expected.ndjson"), "\(fixture.name)")
        }
    }

    /// Every error names the file and the line, and a bad pattern the offset in it.
    @Test(arguments: [
        ("rules:\n  - name: a\n    kind: failed\n    pattern: 'x(y'\n", 4, "bad pattern: missing closing parenthesis at offset 3"),
        ("rules:\n  - name: a\n    kind: stuck\n    pattern: x\n", 3, "unknown kind `stuck`"),
        ("rules:\n  - name: a\n    kind: failed\n", 2, "rule a needs a `pattern`"),
        ("rules:\n  - name: a\n    kind: failed\n    pattern: '(?<who>x)'\n", 4, "unknown group name (?<who>)"),
        ("rules:\n  - name: a\n    kind: failed\n    patern: x\n", 4, "unknown rule key `patern`"),
        ("rules:\n  - name: a\n    kind: failed\n    pattern: x\n  - name: a\n    kind: failed\n    pattern: y\n", 5, "a second rule named a"),
        ("rules: [\n  - name: a\n", 2, "not valid YAML"),
        ("replace_defaults: maybe\nrules: []\n", 1, "replace_defaults must be true or false"),
    ] as [(String, Int, String)])
    func aBadRulesFileNamesTheLine(_ text: String, _ line: Int, _ message: String) {
        do {
            _ = try RulesFile.parse(text, file: "mine.yml")
            Issue.record("accepted: \(text)")
        } catch let e as YAMLFileError {
            #expect(e.line == line, "\(e)")
            #expect(e.description.hasPrefix("mine.yml:\(line): "), "\(e)")
            #expect(e.description.contains(message), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    /// A rules file of the Go service's wording: the captured Go time, profile and holder make
    /// the record; the built-in rules still follow.
    @Test func aCapturedGoTimeAndFieldsMakeTheRecord() throws {
        let file = try RulesFile.load(packageRoot.appendingPathComponent("examples/go-service/rules.yml").path)
        var configuration = Configuration()
        configuration.rules = file.effectiveRules
        #expect(configuration.rules.count == 2 + DefaultRules.specs.count)
        let e = Explanation(line: Array("2026/11/26 14:00:15 worker-2 entry lock busy: profile=p-7 sym=ETH-USD holder=w1 requester=w2".utf8),
                            configuration: configuration)
        guard case .record = e.outcome, let r = e.record else { Issue.record("not a record: \(e.outcome)"); return }
        #expect(e.rule == "go-busy")
        #expect(r.kind == .failed)
        #expect(r.time.rfc3339 == "2026-11-26T14:00:15.000Z")
        #expect((r.profile, r.symbol, r.owner, r.caller, r.host) == ("p-7", "ETH-USD", "w1", "w2", "worker-2"))
    }

    /// `explain` says which rule came closest when none matched, and why a matched line
    /// without a profile is not a record.
    @Test func explainNamesTheNearestMiss() {
        let configuration = Configuration()
        let miss = Explanation(line: Array("2026-11-26 14:00:00,000 INFO entry lock was released by w1 profile_id=p".utf8),
                               configuration: configuration)
        #expect(miss.nearestMiss?.name == "released-message")
        #expect(miss.trials.first { $0.name == "failed-call" }?.matched == nil, "its literal is absent: not run")
        let noProfile = Explanation(line: Array("2026-11-26 14:00:00,000 WARNING fn_try_acquire_entry_lock_row returned false".utf8),
                                    configuration: configuration)
        guard case .noProfile = noProfile.outcome else { Issue.record("\(noProfile.outcome)"); return }
        #expect(noProfile.rule == "failed-call")
        let text = Explain.describe(miss)
        #expect(text.contains("nearest miss: rule released-message"))
        #expect(text.contains("event time  2026-11-26T14:00:00.000Z (from the app record)"))
    }

    /// `lockwatch test`: the project's cases pass; a wrong expectation fails with a readable
    /// diff and exit 1; `--update` re-records it; a case that cannot be read exits 2.
    @Test func testCommandPassesFailsAndUpdates() throws {
        let passing = try runLockwatch(["test", packageRoot.appendingPathComponent("examples").path,
                                        packageRoot.appendingPathComponent("fixtures").path])
        #expect(passing.status == 0, "\(passing.stdout)")
        #expect(passing.stdout.contains("0 failed"))

        let example = packageRoot.appendingPathComponent("examples/go-service")
        for name in ["rules.yml", "busy.log"] {
            try FileManager.default.copyItem(at: example.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let original = try String(contentsOf: example.appendingPathComponent("busy.yml"), encoding: .utf8)
        let wrong = dir.appendingPathComponent("busy.yml")
        try original.replacingOccurrences(of: "reason: persistent", with: "reason: stale_lock").write(to: wrong, atomically: true, encoding: .utf8)
        let failing = try runLockwatch(["test", wrong.path])
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("- event 3 expected: {at: \"2026-11-26T14:01:32.000Z\", failures: 5, profile: p-7, reason: stale_lock"))
        #expect(failing.stdout.contains("(reason differ)"))

        #expect(try runLockwatch(["test", "--update", wrong.path]).status == 0)
        #expect(try String(contentsOf: wrong, encoding: .utf8) == original)
        #expect(try runLockwatch(["test", wrong.path]).status == 0)

        let broken = dir.appendingPathComponent("broken.yml")
        try "log: |\n  x\nexpect: [\n".write(to: broken, atomically: true, encoding: .utf8)
        #expect(try runLockwatch(["test", broken.path]).status == 2)
    }

    /// `--rules` with a file that cannot be used stops before reading, naming the line.
    @Test func aBadRulesFileStopsTheRun() throws {
        let rules = dir.appendingPathComponent("bad.yml")
        try "rules:\n  - name: a\n    kind: failed\n    pattern: 'x(y'\n".write(to: rules, atomically: true, encoding: .utf8)
        let r = try runLockwatch(["--rules", rules.path], stdin: [])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(rules.path):4: rule a: bad pattern: missing closing parenthesis at offset 3"), "\(r.stderr)")
        let check = try runLockwatch(["rules", "check", rules.path])
        #expect(check.status == 2)
    }

    /// Settings: a config file, then LOCKWATCH_* variables, then flags, each winning; the run
    /// uses them, and `--print-config` says where each came from.
    @Test func configFileEnvironmentAndFlagsInThatOrder() throws {
        let config = dir.appendingPathComponent("lockwatch.yml")
        try "ttl: 10s\nescalate_after: 2\nformat: json\n".write(to: config, atomically: true, encoding: .utf8)
        let input = fixturesRoot.appendingPathComponent("incident/input.log").path
        let shown = try runLockwatch(["--config", config.path, "--escalate-after", "4", "--print-config"],
                                     environment: ["LOCKWATCH_TTL": "20s"])
        #expect(shown.status == 0)
        let lines = shown.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("ttl 20s (env LOCKWATCH_TTL)"), "\(shown.stdout)")
        #expect(lines.contains("escalate-after 4 (flag --escalate-after)"))
        #expect(lines.contains("format json (config \(config.path):3)"))
        #expect(lines.contains("multi-profile 2 (default)"))
        // The run itself: TTL 10 s from the file makes the holder stuck sooner than 30 s would.
        let fromFile = try runLockwatch(["--config", config.path, input])
        #expect(fromFile.stdout.hasPrefix("{"), "format json from the file")
        let stuck = { (r: CommandResult) in r.stdout.split(separator: "\n").first { $0.contains("owner_stuck") } ?? "" }
        #expect(stuck(fromFile).contains(#""held_s":15"#), "\(stuck(fromFile))")
        let fromEnv = try runLockwatch(["--config", config.path, input], environment: ["LOCKWATCH_TTL": "40s"])
        #expect(stuck(fromEnv).contains(#""held_s":45"#), "\(stuck(fromEnv))")
        let fromFlag = try runLockwatch(["--config", config.path, "--ttl", "100s", input], environment: ["LOCKWATCH_TTL": "40s"])
        #expect(stuck(fromFlag).isEmpty, "no holder is stuck for 100 s")

        try "ttl: 10s\nttls: 3\n".write(to: config, atomically: true, encoding: .utf8)
        let bad = try runLockwatch(["--config", config.path, input])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("\(config.path):2: unknown setting `ttls`"), "\(bad.stderr)")
    }
}
