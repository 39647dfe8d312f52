// Matching: rules from a YAML file (`--rules`), so that a team's own wording is recognised
// without a rebuild; and the built-in rules written out in the same form.

import Foundation
import PCRE2
import Yams

/// A rules file, loaded and checked.
///
///     rules:
///       - name: go-busy
///         kind: failed
///         prefilter: "entry lock busy"
///         pattern: '^(?<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \S+ entry lock busy: profile=(?<profile>\S+)'
///         examples: ["2026/11/26 14:00:00 w2 entry lock busy: profile=p1"]
///
/// Its rules are tried before the built-in ones, or instead of them with `replace_defaults: true`.
public struct RulesFile: Sendable {
    public var rules: [Rule]
    public var replaceDefaults: Bool
    /// Lines each rule must recognise, checked by `lockwatch rules check`.
    public var examples: [(rule: String, line: String, lineNumber: Int)]
    /// Things worth knowing that do not stop the file from loading.
    public var warnings: [String]

    /// The rules a run uses: these, then the defaults unless replaced.
    public var effectiveRules: [Rule] { replaceDefaults ? rules : rules + DefaultRules.rules() }

    /// Loads and checks the file at `path`.
    /// - Throws: `YAMLFileError`, naming the file, the line and what is wrong.
    public static func load(_ path: String) throws -> RulesFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw YAMLFileError(file: path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses and checks rules-file text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> RulesFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw YAMLFileError(file: file, yaml: e)
        } catch {
            throw YAMLFileError(file: file, line: nil, message: "\(error)")
        }
        guard let top = root?.mapping else {
            throw YAMLFileError(file: file, line: root?.mark?.line, message: "expected a mapping with a `rules:` list")
        }
        var out = RulesFile(rules: [], replaceDefaults: false, examples: [], warnings: [])
        for (key, value) in top {
            switch key.string {
            case "rules": break
            case "replace_defaults":
                guard let b = value.bool else {
                    throw YAMLFileError(file: file, line: value.mark?.line, message: "replace_defaults must be true or false")
                }
                out.replaceDefaults = b
            default:
                throw YAMLFileError(file: file, line: key.mark?.line,
                                     message: "unknown key `\(key.string ?? "?")` (known: rules, replace_defaults)")
            }
        }
        guard let list = top["rules"] else {
            throw YAMLFileError(file: file, line: top.mark?.line, message: "no `rules:` list")
        }
        guard let items = list.sequence else {
            throw YAMLFileError(file: file, line: list.mark?.line, message: "`rules:` must be a list of rules")
        }
        var names: Set<String> = []
        for item in items {
            let (rule, examples) = try parseRule(item, file: file)
            guard names.insert(rule.name).inserted else {
                throw YAMLFileError(file: file, line: item.mark?.line, message: "a second rule named \(rule.name)")
            }
            if rule.literals.isEmpty {
                out.warnings.append("\(file):\(item.mark?.line ?? 0): rule \(rule.name) has no prefilter: every line of the input goes through its pattern (slow); give a literal every matching line contains")
            }
            out.rules.append(rule)
            out.examples += examples
        }
        if out.replaceDefaults && out.rules.isEmpty {
            throw YAMLFileError(file: file, line: list.mark?.line, message: "replace_defaults: true with no rules recognises nothing")
        }
        return out
    }

    private static let ruleKeys = ["name", "kind", "prefilter", "prefilter_case_insensitive", "pattern", "examples"]

    private static func parseRule(_ node: Node, file: String) throws -> (Rule, [(String, String, Int)]) {
        let line = node.mark?.line
        guard let m = node.mapping else {
            throw YAMLFileError(file: file, line: line, message: "a rule must be a mapping (name, kind, pattern, …)")
        }
        for (key, _) in m where !ruleKeys.contains(key.string ?? "") {
            throw YAMLFileError(file: file, line: key.mark?.line,
                                 message: "unknown rule key `\(key.string ?? "?")` (known: \(ruleKeys.joined(separator: ", ")))")
        }
        guard let name = m["name"]?.string, !name.isEmpty else {
            throw YAMLFileError(file: file, line: line, message: "a rule needs a `name`")
        }
        guard let kindText = m["kind"]?.string else {
            throw YAMLFileError(file: file, line: line, message: "rule \(name) needs a `kind` (\(RecordKind.allCases.map(\.rawValue).joined(separator: " | ")))")
        }
        guard let kind = RecordKind(rawValue: kindText) else {
            throw YAMLFileError(file: file, line: m["kind"]?.mark?.line,
                                 message: "rule \(name): unknown kind `\(kindText)` (\(RecordKind.allCases.map(\.rawValue).joined(separator: " | ")))")
        }
        guard let patternNode = m["pattern"], let pattern = patternNode.string, !pattern.isEmpty else {
            throw YAMLFileError(file: file, line: line, message: "rule \(name) needs a `pattern`")
        }
        let caseInsensitive = m["prefilter_case_insensitive"]?.bool ?? false
        var literals: [Literal] = []
        if let p = m["prefilter"] {
            let texts = p.sequence.map { $0.compactMap(\.string) } ?? p.string.map { [$0] } ?? []
            guard !texts.isEmpty, texts.allSatisfy({ !$0.isEmpty }) else {
                throw YAMLFileError(file: file, line: p.mark?.line, message: "rule \(name): `prefilter` must be a literal or a list of literals")
            }
            literals = texts.map { Literal($0, caseInsensitive: caseInsensitive) }
        }
        let rule: Rule
        do {
            rule = try Rule(name: name, kind: kind, pattern: pattern, literals: literals)
        } catch let e as RegexCompileError {
            throw YAMLFileError(file: file, line: patternNode.mark?.line,
                                 message: "rule \(name): bad pattern: \(e.message) at offset \(e.offset):\n  \(pattern)\n  \(String(repeating: " ", count: pattern.utf8.prefix(e.offset).count))^")
        } catch {
            throw YAMLFileError(file: file, line: patternNode.mark?.line, message: "\(error)")
        }
        var examples: [(String, String, Int)] = []
        if let ex = m["examples"] {
            guard let list = ex.sequence else {
                throw YAMLFileError(file: file, line: ex.mark?.line, message: "rule \(name): `examples` must be a list of log lines")
            }
            for e in list {
                guard let text = e.string else {
                    throw YAMLFileError(file: file, line: e.mark?.line, message: "rule \(name): an example must be a log line")
                }
                examples.append((name, text, e.mark?.line ?? 0))
            }
        }
        return (rule, examples)
    }
}

/// A YAML file lockwatch reads — a rules file, a settings file, a replay case — that cannot be
/// used: the file, the line, and why.
public struct YAMLFileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file; self.line = line; self.message = message
    }

    /// A YAML error, with its line.
    public init(file: String, yaml: YamlError) {
        self.file = file
        switch yaml {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            line = mark.line
            message = "not valid YAML: \(problem) (column \(mark.column))"
        default:
            line = nil
            message = "not valid YAML: \(yaml)"
        }
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

extension DefaultRules {
    /// The built-in rules as a rules file (`lockwatch rules show`).
    public static var asRulesFile: String {
        var out = """
            # lockwatch's built-in rules, in the form --rules reads. Rules are tried in order;
            # the first whose prefilter literal the line contains and whose pattern matches wins.
            # This file replaces the built-in rules (replace_defaults: true); a file of a few
            # rules of your own, without it, is tried before them.
            replace_defaults: true
            rules:

            """
        for spec in specs {
            out += "  - name: \(spec.name)\n"
            out += "    kind: \(spec.kind.rawValue)\n"
            let insensitive = spec.literals.contains { $0.caseInsensitive }
            out += "    prefilter: [\(spec.literals.map { yamlQuoted($0.text) }.joined(separator: ", "))]\n"
            if insensitive { out += "    prefilter_case_insensitive: true\n" }
            out += "    pattern: \(yamlQuoted(spec.pattern))\n"
        }
        return out
    }

    /// A YAML single-quoted scalar: nothing is escaped but the quote, which is doubled.
    static func yamlQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}
