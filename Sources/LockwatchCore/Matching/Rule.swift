// Matching: a decoded LogRecord → a LockRecord, by PCRE2 rules.

import PCRE2

/// What a recognised record says (SPEC section 2).
public enum RecordKind: String, CaseIterable, Sendable {
    case failed, warning, acquired, released, health
}

/// One recognition rule: a PCRE2 pattern over a record's subject text, and the kind it yields.
///
/// Named groups (`profile`, `symbol`, `owner`, `caller`, `expires`, `latency_ms`, `host`,
/// `time`, `skipped`) fill fields, and win over the fields the decoder found.
public final class Rule: Sendable {
    /// The rule's name, shown by `explain` and in errors.
    public let name: String
    public let kind: RecordKind
    /// Literals of which at least one occurs in every line this rule matches; empty when unknown.
    public let literals: [Literal]
    /// The same literals, to skip the regex on records that cannot match.
    let prefilter: Prefilter
    public let regex: Regex
    let groups: [(field: Field, number: Int)]

    /// Compiles a rule.
    /// - Throws: `RegexCompileError` for a bad pattern, `RuleError` for an unknown group name.
    public init(name: String, kind: RecordKind, pattern: String, literals: [Literal] = []) throws {
        self.name = name
        self.kind = kind
        self.literals = literals
        self.prefilter = Prefilter(literals: literals)
        self.regex = try Regex(pattern, options: [.utf])
        var groups: [(Field, Int)] = []
        for (groupName, number) in regex.groupNames {
            guard let f = Field(groupName: groupName) else {
                throw RuleError.unknownGroup(rule: name, group: groupName)
            }
            groups.append((f, number))
        }
        self.groups = groups
    }
}

/// A rule that cannot be used.
public enum RuleError: Error, CustomStringConvertible, Sendable {
    case unknownGroup(rule: String, group: String)

    public var description: String {
        switch self {
        case let .unknownGroup(rule, group):
            "rule \(rule): unknown group name (?<\(group)>); known: \(Field.allCases.map(\.name).joined(separator: ", "))"
        }
    }
}

/// The built-in rules of SPEC section 2.
public enum DefaultRules {
    private static let no = #"(?<!\S)"#            // start of a whole token
    private static let end = #""?(?!\S)"#           // end of a whole token, after an optional quote

    private static func call(_ fn: String, _ result: String) -> String {
        #"\b\#(fn)(?:\(\))?"?:?\s*(?:returned:?|->|=)\s*"?\#(result)(?![\w-])"#
    }

    /// Both tokens anywhere on the line (up to a newline), in either order. Each lookahead
    /// steps a whole token at a time: the positions it tries are those of `.*(?<!\S)` at
    /// which a token can start, and a line without the tokens is rejected in a third of the
    /// time that `.*` takes, backtracking byte by byte.
    private static func fields(_ fn: String, _ result: String) -> String {
        #"^(?=\#(token)fn="?\#(fn)\#(end))(?=\#(token)(?:result|acquired|ok)="?\#(result)\#(end))"#
    }

    /// Whole tokens and the blanks after them, as few as will do: the start of a later token.
    /// The blanks are `\s` but the newline, spelled out: PCRE2's JIT (10.42) mismatches
    /// `\S*+` and `[^\S\n]` in this loop on some lines that the interpreter matches.
    private static let token = #"(?:[^\t\n\x0B\x0C\r ]*+[\t\x0B\x0C\r ]++)*?"#

    /// Patterns as (name, kind, pattern, literals), in the order they are tried.
    public static let specs: [(name: String, kind: RecordKind, pattern: String, literals: [Literal])] = [
        ("failed-call", .failed, call("fn_try_acquire_entry_lock_row", "false"), [lockRow]),
        ("failed-fields", .failed, fields("fn_try_acquire_entry_lock_row", "false"), [lockRow]),
        ("acquired-call", .acquired, call("fn_try_acquire_entry_lock_row", "true"), [lockRow]),
        ("acquired-fields", .acquired, fields("fn_try_acquire_entry_lock_row", "true"), [lockRow]),
        ("released-message", .released, #"(?i)\bentry lock released\b"#, [Literal("entry lock", caseInsensitive: true)]),
        ("released-call", .released, call("fn_release_entry_lock_row", "true"), [lockRow]),
        ("released-fields", .released, fields("fn_release_entry_lock_row", "true"), [lockRow]),
        ("warning", .warning, #"(?i)\block acquisition failed\b"#, [Literal("acquisition", caseInsensitive: true)]),
        ("health", .health, #"\#(no)"?(?:lockContentionCount|tradingLoopHealthy|reconciliationLoopHealthy)"?[=:]"#,
         [Literal("ContentionCount"), Literal("LoopHealthy")]),
    ]

    private static let lockRow = Literal("_lock_row")

    /// The compiled default rules.
    public static func rules() -> [Rule] {
        // The built-in patterns are tested; a failure here is a programming error.
        specs.map { try! Rule(name: $0.name, kind: $0.kind, pattern: $0.pattern, literals: $0.literals) }
    }
}
