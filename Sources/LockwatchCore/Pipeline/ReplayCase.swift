// Pipeline: test cases that replay a log and state the events it must give (`lockwatch test`).

import Foundation
import Yams

/// One replay test: a log, the flags, and the events expected, in order.
///
///     name: go service wording
///     args: [--rules, rules.yml]          # paths are relative to this file
///     log: |                               # or log_file: incident.log
///       2026/11/26 14:00:00 w2 entry lock busy: profile=p1 sym=ETH-USD holder=w1 requester=w2
///     expect:                              # each event lists only the keys it checks
///       - {type: contention_started, profile: p1, symbol: ETH-USD, at: "2026-11-26T14:00:00.000Z"}
///     summary: {escalations: 0, exit: 0}
///
/// In an event, `profile` stands for `profile_id` and `time` for `at`; any other key of the
/// NDJSON event may be given. In the summary: its top-level counts, and `failures` in all.
public struct ReplayCase: Sendable {
    public var path: String
    public var name: String
    public var args: [String]
    /// The log inline, or nil when it is in files.
    public var log: [UInt8]?
    /// Log files, relative to the case's directory.
    public var logFiles: [String]
    public var expect: [[String: String]]
    public var summary: [String: String]
    /// The line of `expect:` (the rest of the file is rewritten by `--update`).
    var expectLine: Int?

    public var directory: String { (path as NSString).deletingLastPathComponent }

    /// Whether a YAML file is a case file (it has `log` or `log_file`), not, say, a rules file
    /// beside it.
    public static func isCase(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let m = (try? Yams.compose(yaml: text))??.mapping else { return false }
        return m["log"] != nil || m["log_file"] != nil
    }

    /// Loads a case file.
    /// - Throws: `YAMLFileError` (file, line, message) when it cannot be used.
    public static func load(_ path: String) throws -> ReplayCase {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw YAMLFileError(file: path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw YAMLFileError(file: path, yaml: e)
        }
        guard let m = root?.mapping else { throw YAMLFileError(file: path, line: 1, message: "expected a mapping (name, args, log, expect, summary)") }
        let known = ["name", "args", "log", "log_file", "expect", "summary"]
        for (k, _) in m where !known.contains(k.string ?? "") {
            throw YAMLFileError(file: path, line: k.mark?.line, message: "unknown key `\(k.string ?? "?")` (known: \(known.joined(separator: ", ")))")
        }
        var c = ReplayCase(path: path, name: m["name"]?.string ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                           args: [], log: nil, logFiles: [], expect: [], summary: [:], expectLine: nil)
        if let a = m["args"] {
            guard let list = a.sequence.map({ $0.compactMap(\.string) }) ?? a.string.map({ $0.split(separator: " ").map(String.init) }) else {
                throw YAMLFileError(file: path, line: a.mark?.line, message: "`args` must be a list of flags")
            }
            c.args = list
        }
        if let log = m["log"]?.string { c.log = Array(log.utf8) }
        if let f = m["log_file"] { c.logFiles = f.sequence.map { $0.compactMap(\.string) } ?? f.string.map { [$0] } ?? [] }
        if (c.log == nil) == c.logFiles.isEmpty {
            throw YAMLFileError(file: path, line: 1, message: "give the log inline (`log: |`) or as `log_file`, one of the two")
        }
        if let e = m["expect"] {
            c.expectLine = e.mark?.line
            if e.null == nil {
                guard let list = e.sequence else { throw YAMLFileError(file: path, line: e.mark?.line, message: "`expect` must be a list of events") }
                for item in list {
                    guard let event = item.mapping else {
                        throw YAMLFileError(file: path, line: item.mark?.line, message: "an expected event is a mapping such as {type: escalation, reason: persistent}")
                    }
                    c.expect.append(Self.scalars(event))
                }
            }
            if let keyLine = m.keys.first(where: { $0.string == "expect" })?.mark?.line { c.expectLine = keyLine }
        }
        if let s = m["summary"]?.mapping { c.summary = Self.scalars(s) }
        return c
    }

    private static func scalars(_ m: Node.Mapping) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let key = k.string else { continue }
            out[aliases[key] ?? key] = v.sequence.map { "[" + $0.compactMap(\.string).joined(separator: ",") + "]" } ?? (v.null != nil ? "null" : v.string ?? "")
        }
        return out
    }

    private static let aliases = ["profile": "profile_id", "time": "at"]

    /// What differs between the expectations and a run's NDJSON output; empty when it passes.
    public func differences(ndjson: String) -> [String] {
        let lines = ndjson.split(separator: "\n").map(String.init)
        let objects = lines.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
        let events = zip(lines, objects).filter { $0.1["type"] as? String != "summary" }
        var out: [String] = []
        for (k, want) in expect.enumerated() {
            guard k < events.count else {
                out.append("- event \(k + 1) missing: \(Self.flow(want))")
                continue
            }
            let got = events[k].1
            let wrong = want.keys.sorted().filter { Self.text(got[$0]) != want[$0] }
            if !wrong.isEmpty {
                out.append("- event \(k + 1) expected: \(Self.flow(want))")
                out.append("+ event \(k + 1) got:      \(Self.flow(want.keys.sorted().map { ($0, Self.text(got[$0])) }))   (\(wrong.joined(separator: ", ")) differ)")
            }
        }
        for k in expect.count..<max(expect.count, events.count) {
            out.append("+ event \(k + 1) not expected: \(events[k].0)")
        }
        if !summary.isEmpty {
            let s = objects.last { $0["type"] as? String == "summary" } ?? [:]
            for (key, want) in summary.sorted(by: { $0.key < $1.key }) {
                let got = key == "failures"
                    ? String((s["profiles"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["failures"] as? Int ?? 0) })
                    : Self.text(s[key])
                if got != want { out.append("  summary \(key): expected \(want), got \(got)") }
            }
        }
        return out
    }

    /// The case file with `expect:` and `summary:` re-recorded from a run's output (they must
    /// come last in the file; what is above them is kept as it is).
    public func updated(ndjson: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let line = expectLine { lines = Array(lines.prefix(line - 1)) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        let objects = ndjson.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        var out = lines.joined(separator: "\n") + "\nexpect:\n"
        let keys = ["type", "at", "reason", "profile_id", "profiles", "symbol", "owner", "host", "failures"]
        for o in objects where o["type"] as? String != "summary" {
            out += "  - " + Self.flow(keys.compactMap { k in o[k].map { (k == "profile_id" ? "profile" : k, Self.text($0)) } }) + "\n"
        }
        if let s = objects.last(where: { $0["type"] as? String == "summary" }) {
            let failures = (s["profiles"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["failures"] as? Int ?? 0) }
            out += "summary: " + Self.flow(["lines", "matched", "unparsed", "escalations", "exit"].map { ($0, Self.text(s[$0])) } + [("failures", String(failures))]) + "\n"
        }
        return out
    }

    /// A JSON value as the text a case file gives it.
    static func text(_ v: Any?) -> String {
        guard let v, !(v is NSNull) else { return "null" }
        if type(of: v) == Bool.self { return (v as! Bool) ? "true" : "false" }
        if let s = v as? String { return s }
        if let a = v as? [Any] { return "[" + a.map { text($0) }.joined(separator: ",") + "]" }
        if let i = v as? Int { return String(i) }
        if let d = v as? Double { return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
        return "\(v)"
    }

    private static func flow(_ m: [String: String]) -> String { flow(m.keys.sorted().map { ($0, m[$0]!) }) }

    private static func flow(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { k, v in "\(k == "profile_id" ? "profile" : k): \(yamlScalar(v))" }.joined(separator: ", ") + "}"
    }

    /// A value as a flow-style YAML scalar, quoted when plain would not read back the same.
    private static func yamlScalar(_ v: String) -> String {
        let plain = v.range(of: #"^[A-Za-z0-9_.\-:/]+$"#, options: .regularExpression) != nil
            && !v.contains(": ") && !["null", "true", "false", "yes", "no", "on", "off", "~"].contains(v.lowercased())
        if plain && (v.first?.isLetter ?? false || Double(v) != nil) && !v.hasSuffix(":") { return v }
        if v.hasPrefix("[") { return v }
        return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
