// `lockwatch test`: replays logs and checks the events they give, as `promtool test rules`.

import ArgumentParser
import Foundation
import LockwatchCore

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Replay test cases and check the events they give.",
        discussion: """
            A PATH is a case file (YAML: args, log or log_file, expect, summary), a fixture \
            directory (args, input*, expected.ndjson, expected.txt: the whole output must be \
            equal), or a directory holding either. Exit status: 0 when every case passes, 1 when \
            one fails, 2 when a case cannot be read.

            Example case:
              name: go service wording
              args: [--rules, rules.yml]
              log_file: busy.log
              expect:
                - {type: contention_started, profile: p1, symbol: ETH-USD}
                - {type: escalation, reason: persistent, profile: p1}
              summary: {escalations: 1, exit: 1}
            """)

    @Argument(help: "Case files, fixture directories, or directories of them (default: fixtures). In a directory, YAML files without `log` or `log_file` (rules files) are not cases.")
    var paths: [String] = []

    @Flag(help: "Re-record the expectations from what the runs give (review the diff).")
    var update = false

    @OptionGroup var colour: ColorOptions

    func run() throws {
        var passed = 0, failed = 0, broken = 0
        let cases = (paths.isEmpty ? ["fixtures"] : paths).flatMap { Self.discover($0) }
        if cases.isEmpty {
            Terminal.warn("no test cases in \(paths.isEmpty ? "fixtures" : paths.joined(separator: " "))")
            throw ExitCode(ExitStatus.error)
        }
        let start = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(start) }
        for path in cases {
            _ = FileManager.default.changeCurrentDirectoryPath(start)
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            do {
                let problems = try Self.isFixture(absolute) ? fixture(absolute) : replay(absolute)
                if problems.isEmpty {
                    passed += 1
                    print(colour.paint("ok   ", "32") + " \(path)")
                } else {
                    failed += 1
                    print(colour.paint("FAIL ", "1;31") + " \(path)")
                    for p in problems.prefix(40) {
                        print("      " + (p.hasPrefix("-") ? colour.paint(p, "31") : p.hasPrefix("+") ? colour.paint(p, "32") : p))
                    }
                    if problems.count > 40 { print("      … \(problems.count - 40) more") }
                }
            } catch {
                broken += 1
                print(colour.paint("ERROR", "1;31") + " \(path): \(error)")
            }
        }
        print("\(passed) passed, \(failed) failed\(broken > 0 ? ", \(broken) could not run" : "")\(update ? " (re-recorded)" : "")")
        if broken > 0 { throw ExitCode(ExitStatus.error) }
        if failed > 0 { throw ExitCode(1) }
    }

    /// The cases under a path: itself when it is a case file or a fixture directory; else the
    /// case files and fixture directories inside it, in name order.
    static func discover(_ path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [path] }
        if !isDir.boolValue || isFixture(path) { return [path] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        return names.flatMap { name -> [String] in
            let p = (path as NSString).appendingPathComponent(name)
            var d: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: p, isDirectory: &d)
            if d.boolValue { return discover(p) }
            return (name.hasSuffix(".yml") || name.hasSuffix(".yaml")) && ReplayCase.isCase(p) ? [p] : []
        }
    }

    static func isFixture(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("args"))
            && FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("expected.ndjson"))
    }

    /// Runs the pipeline in-process with the flags of a case, from the case's directory.
    static func output(args: [String], in directory: String, sources: () throws -> [ByteSource], text: Bool = false) throws -> String {
        _ = FileManager.default.changeCurrentDirectoryPath(directory)
        let scan = try Scan.parse(args)
        let configuration = try scan.makeConfiguration()
        let out = MemorySink()
        let sink: Sink = text ? scan.textPrinter(out, color: false, ttl: configuration.thresholds.ttl, batch: true) : JSONPrinter(out: out)
        _ = Pipeline(configuration: configuration, sink: sink).run(sources: try sources())
        return out.text
    }

    /// A fixture directory: the whole NDJSON and text outputs against the recorded ones.
    private func fixture(_ dir: String) throws -> [String] {
        let read = { (name: String) in try String(contentsOfFile: (dir as NSString).appendingPathComponent(name), encoding: .utf8) }
        let args = try read("args").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("input") }.sorted()
        var problems: [String] = []
        for (file, text) in [("expected.ndjson", false), ("expected.txt", true)] {
            let path = (dir as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let got = try Self.output(args: args, in: dir, sources: { try inputs.map { try openInput($0) } }, text: text)
            if update {
                try got.write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            problems += Self.lineDiff(expected: try String(contentsOfFile: path, encoding: .utf8), got: got, name: file)
        }
        return problems
    }

    /// A case file: the events it expects against the run's.
    private func replay(_ path: String) throws -> [String] {
        let c = try ReplayCase.load(path)
        let dir = c.directory
        let got = try Self.output(args: c.args, in: dir, sources: {
            if let log = c.log { return [MemorySource(log, name: path)] }
            return try c.logFiles.map { try openInput($0) }
        })
        if update {
            try c.updated(ndjson: got).write(toFile: path, atomically: true, encoding: .utf8)
            return []
        }
        return c.differences(ndjson: got)
    }

    /// The lines that differ, as `-` expected and `+` got, with their line numbers.
    static func lineDiff(expected: String, got: String, name: String) -> [String] {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = got.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for k in 0..<max(a.count, b.count) where (k < a.count ? a[k] : nil) != (k < b.count ? b[k] : nil) {
            if k < a.count { out.append("- \(name):\(k + 1) \(a[k])") }
            if k < b.count { out.append("+ \(name):\(k + 1) \(b[k])") }
        }
        return out
    }
}
