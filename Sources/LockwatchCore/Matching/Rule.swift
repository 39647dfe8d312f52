// Matching: a decoded LogRecord → a LockRecord, by PCRE2 rules.

import CScan
import PCRE2

/// What a recognised record says (docs/semantics.md, "Records").
public enum RecordKind: String, CaseIterable, Sendable, BitwiseCopyable {
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
    /// What is known of the pattern without running it, when it is a built-in one.
    let shortcut: Shortcut?

    /// Compiles a rule.
    /// - Throws: `RegexCompileError` for a bad pattern, `RuleError` for an unknown group name.
    public init(name: String, kind: RecordKind, pattern: String, literals: [Literal] = []) throws {
        self.name = name
        self.kind = kind
        self.literals = literals
        self.prefilter = Prefilter(literals: literals)
        self.regex = try Regex(pattern, options: [.utf])
        self.shortcut = DefaultRules.shortcuts[pattern]
        var groups: [(field: Field, number: Int, rank: Int)] = []
        for (groupName, number) in regex.groupNames {
            guard let f = Field(groupName: groupName) else {
                throw RuleError.unknownGroup(rule: name, group: groupName)
            }
            // A field's canonical name ranks first, then its names as `Field.aliases` ranks them.
            groups.append((f, number, groupName == f.name ? -1 : f.aliases.firstIndex(of: groupName) ?? -1))
        }
        // Captures are written in this order, so that of two groups of one field that both
        // matched, the more specific name's is written last and wins, as in a record's fields.
        self.groups = groups.sorted { ($0.rank, $0.number) > ($1.rank, $1.number) }.map { ($0.field, $0.number) }
    }
}

/// What is known of a pattern without running it: literal tests that decide most lock lines
/// in a fraction of the pattern's time, so that most lock lines never reach PCRE2.
struct Shortcut: Sendable {
    /// A text the pattern matches, with the boundaries it asks around it: where the text occurs
    /// with them, the pattern matches too, and need not run.
    var proof: Proof?
    /// Literals that every match contains, all of them: a line without one cannot match.
    var requires: [Literal] = []
    /// Literals that every match in ASCII text contains, besides `requires`: a caseless
    /// phrase, which in other text may match through a non-ASCII letter (under `(?i)`, PCRE2
    /// matches `k` to the Kelvin sign U+212A and `s` to U+017F). Only the line gate
    /// (`Matcher.mayMatch(line:)`), which reads ASCII lines alone, uses them.
    var requiresInASCII: [Literal] = []

    struct Proof: Sendable {
        var text: Literal
        /// Whether the pattern asks `\b` before the text (which starts with a word character).
        var wordBefore: Bool
        /// What may not follow the text: nothing (0), a word character (1, `\b` after a text
        /// that ends with one), a word character or `-` (2, `(?![\w-])`).
        var after: Int32

        /// Whether `subject` contains the text with the boundaries around it (true), does not
        /// contain the text at all (false), or contains it only without them (nil).
        func holds(in subject: UnsafeRawBufferPointer, _ tables: UnsafeMutablePointer<lw_literals>) -> Bool? {
            guard let base = subject.baseAddress else { return false }
            switch lw_literal_proves(tables, text.text.utf8.count, wordBefore ? 1 : 0, after,
                                     base.assumingMemoryBound(to: UInt8.self), subject.count) {
            case 1: return true
            case 0: return false
            default: return nil
            }
        }
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

/// The built-in rules (docs/semantics.md, "Records").
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

    /// The shortcuts of the built-in patterns, by their text: also those of a rules file that
    /// restates one (`rules show`). Each proof is one text its pattern matches; each required
    /// literal is one its pattern spells out outside any alternative or optional part. The
    /// words are ASCII, and PCRE2's `\b` and `\w` are ASCII here (UTF without UCP), so byte
    /// tests decide them exactly; a test that does not decide leaves the line to the pattern.
    static let shortcuts: [String: Shortcut] = {
        var table: [String: Shortcut] = [:]
        for fn in ["fn_try_acquire_entry_lock_row", "fn_release_entry_lock_row"] {
            for result in ["false", "true"] {
                table[call(fn, result)] = Shortcut(
                    proof: .init(text: Literal("\(fn) returned \(result)"), wordBefore: true, after: 2),
                    requires: [Literal(result)])
                table[fields(fn, result)] = Shortcut(proof: nil, requires: [Literal("fn="), Literal(result)])
            }
        }
        for phrase in ["entry lock released", "lock acquisition failed"] {
            table[#"(?i)\b\#(phrase)\b"#] = Shortcut(
                proof: .init(text: Literal(phrase, caseInsensitive: true), wordBefore: true, after: 1),
                requiresInASCII: [Literal(phrase, caseInsensitive: true)])
        }
        return table
    }()

    /// The compiled default rules.
    public static func rules() -> [Rule] {
        // The built-in patterns are tested; a failure here is a programming error.
        specs.map { try! Rule(name: $0.name, kind: $0.kind, pattern: $0.pattern, literals: $0.literals) }
    }
}
