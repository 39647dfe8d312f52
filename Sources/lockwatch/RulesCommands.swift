// `lockwatch rules check|show` and `lockwatch explain`: the rules, as promtool shows its own.

import ArgumentParser
import Foundation
import LockwatchCore

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check a rules file, or print the built-in rules as one.",
        subcommands: [Check.self, Show.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check rules files without running: YAML, keys, kinds, patterns (with the offset of an error), and each rule's examples.",
            discussion: "Exit status: 0 when every file is usable and every example is recognised by its rule, 2 otherwise.")

        @Argument(help: "Rules files.")
        var files: [String]

        func run() throws {
            var failed = false
            for path in files {
                let file: RulesFile
                do {
                    file = try RulesFile.load(path)
                } catch {
                    Terminal.warn("\(error)")
                    failed = true
                    continue
                }
                for w in file.warnings { Terminal.warn("warning: \(w)") }
                var configuration = Configuration()
                configuration.rules = file.effectiveRules
                var wrong = 0
                for example in file.examples {
                    let e = Explanation(line: Array(example.line.utf8), configuration: configuration)
                    let got: String
                    let rule = e.rule ?? ""
                    switch e.outcome {
                    case _ where !e.isDecodedByARun:
                        got = !e.passesPrefilter ? "skipped by a run: no prefilter literal occurs in it"
                            : "skipped by a run: it lacks \(e.lineGateLacks.joined(separator: ", ")), and every rule needs one of them"
                    case .record where rule == example.rule: continue
                    case .record: got = "recognised by rule \(rule) instead"
                    case .noProfile: got = "matched by rule \(rule), but has no profile id"
                    case .limitExceeded: got = "rule \(rule) hit the PCRE2 match limit"
                    case .none: got = e.decodeFailure.map { "not decoded: \($0.rawValue)" } ?? "not recognised"
                    }
                    Terminal.warn("\(path):\(example.lineNumber): example of rule \(example.rule) is \(got): \(example.line)")
                    wrong += 1
                }
                if wrong > 0 { failed = true; continue }
                let defaults = file.replaceDefaults ? "replacing the built-in rules" : "before the \(DefaultRules.specs.count) built-in rules"
                print("\(path): \(file.rules.count) rules, \(defaults); \(file.examples.count) examples recognised")
            }
            if failed { throw ExitCode(ExitStatus.error) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the built-in rules as a rules file (a starting point for --rules).")

        func run() throws { print(DefaultRules.asRulesFile, terminator: "") }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain one line: envelope and shape, event time and its source, fields, and which rule matched — or the nearest miss and why.",
        discussion: """
            Examples:
              lockwatch explain '2026/11/26 14:00:00 w2 entry lock busy: profile=p1 sym=ETH-USD'
              lockwatch explain --file incident.log --line 12 --rules rules.yml
            """)

    @Argument(help: "The log line (or give --file and --line).")
    var text: String?

    @Option(help: "A log file to take the line from.")
    var file: String?

    @Option(help: "The line's number in --file, from 1.")
    var line: Int?

    @OptionGroup var recognition: RecognitionOptions
    @OptionGroup var colour: ColorOptions

    func validate() throws {
        if text == nil, file == nil { throw ValidationError("give a line, or --file and --line") }
        if text != nil, file != nil { throw ValidationError("give a line or --file, not both") }
        if file != nil, line == nil { throw ValidationError("--file needs --line") }
        if let line, line < 1 { throw ValidationError("--line counts from 1") }
    }

    func run() throws {
        var configuration = Configuration()
        var bytes: [UInt8]
        var previous: (time: EventTime, line: Int)? = nil
        do {
            _ = try recognition.apply(to: &configuration)
            if let text {
                bytes = Array(text.utf8)
            } else {
                (bytes, previous) = try lineOf(file!, line!, configuration: configuration)
            }
        } catch {
            Terminal.warn("\(error)")
            throw ExitCode(ExitStatus.error)
        }
        let e = Explanation(line: bytes, configuration: configuration,
                            readClock: EventTime(seconds: Date().timeIntervalSince1970), previousTime: previous?.time)
        print(Self.describe(e, previous: file == nil ? .unknown : previous.map { .line($0.line, $0.time) } ?? .none,
                            paint: colour.paint), terminator: "")
        // A record only if a run would count it (not one set aside for want of a time).
        if case .record = e.outcome, e.time != nil || file == nil || previous != nil { return }
        throw ExitCode(1)
    }

    /// Line `n` of a file (gzip too), without its newline (or a byte-order mark before it), and
    /// the last timed line before it — whose time a line without one takes in a run.
    private func lineOf(_ path: String, _ n: Int, configuration: Configuration) throws -> ([UInt8], (time: EventTime, line: Int)?) {
        let source = try openInput(path)
        let decoder = RecordDecoder(format: configuration.inputFormat, timestamps: TimestampParser(zone: configuration.zone),
                                    year: configuration.year)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var current: [UInt8] = []
        var number = 1
        var previous: (time: EventTime, line: Int)? = nil
        func finished(_ line: [UInt8]) -> [UInt8] {
            number == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(line.dropFirst(3)) : line
        }
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            for b in buffer[..<count] {
                if b == 10 {
                    let line = finished(current.last == 13 ? Array(current.dropLast()) : current)
                    if number == n { return (line, previous) }
                    if let t = line.withUnsafeBytes({ try? decoder.decode($0).get().time }) { previous = (t, number) }
                    number += 1
                    current.removeAll(keepingCapacity: true)
                } else {
                    current.append(b)
                }
            }
        }
        if number == n, !current.isEmpty { return (finished(current), previous) }
        throw InputError(name: path, reason: "has \(number - 1) lines; there is no line \(n)")
    }

    /// What comes before an explained line, for a line without a time of its own.
    enum Before {
        /// The line was given alone.
        case unknown
        /// Line `n` of its file, with this time, is the last timed line before it.
        case line(Int, EventTime)
        /// Nothing before it in its file has a time.
        case none
    }

    static func describe(_ e: Explanation, previous: Before = .unknown,
                         paint: (String, String) -> String = { s, _ in s }) -> String {
        var t = ""
        if !e.passesPrefilter {
            t += "prefilter   none of the rules' literals occurs in the line: a run skips it before decoding\n"
        } else if !e.passesLineGate {
            t += "prefilter   the line lacks \(e.lineGateLacks.joined(separator: ", ")); every rule needs one of them: a run skips it before decoding\n"
        }
        if let f = e.decodeFailure {
            t += "decoding    failed: \(f.rawValue) (\(e.isDecodedByARun ? "a run counts the line as unparsed" : "a run does not decode it"))\n"
            return t
        }
        t += "envelope    \(e.envelope.rawValue)\(e.envelopeHost.map { ", host \(TextPrinter.escaped($0))" } ?? "")\n"
        t += "app record  \(e.shape.rawValue)\n"
        if let time = e.time {
            t += "event time  \(time.rfc3339) (from the \(e.timeSource == .app ? "app record" : "envelope"))\n"
        } else {
            if e.malformedTime { t += "time        the line starts with a date and time that is none (a month, day or hour out of range)\n" }
            switch previous {
            case .line(let n, let time):
                t += "event time  \(time.rfc3339) (none in the line: it takes the time of line \(n), the last timed line before it)\n"
            case .none:
                t += "event time  none in the line, and no timed line before it: a run sets it aside\n"
            case .unknown:
                t += "event time  none in the line: a run gives it the time of the last timed line before it (with none, a file\n"
                t += "            sets it aside, and a pipe that never carries a time uses the moment it is read)\n"
            }
        }
        t += "fields\n"
        if e.fields.isEmpty { t += "  (none)\n" }
        for (name, value) in e.fields { t += "  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(TextPrinter.escaped(value))\n" }
        t += "subject     \(TextPrinter.escaped(e.subject))\n"
        t += "rules\n"
        for r in e.trials {
            let literal = r.literals.isEmpty ? "no prefilter" : "prefilter \(r.literals.map(\.description).joined(separator: " | "))"
            let verdict = switch r.matched {
            case nil: "skipped: its literal does not occur"
            case false?: "literal found; pattern does not match"
            case true?: paint("MATCHED", "1;32") + (r.captures.isEmpty ? "" : ": " + r.captures.map { "\($0.name)=\(TextPrinter.escaped($0.value))" }.joined(separator: " "))
            }
            t += "  \(r.name) (\(r.kind.rawValue), \(literal)): \(verdict)\n"
        }
        let rule = e.rule ?? ""
        if e.outcome != .none, !e.passesPrefilter {
            // Decoded, the line would be one (its literal is spelled by JSON escapes): a run
            // reads the prefilter's literals in the line's bytes as written, and skips it.
            t += "result      not a lock record in a run, which skips it before decoding: its bytes as written lack the\n"
            t += "            rules' literals (decoded, rule \(rule) would match it)\n"
            return t
        }
        if let r = e.record, e.time == nil, case .none = previous {
            t += "result      \(r.kind == .acquired ? "an" : "a") \(r.kind.rawValue) record by rule \(rule), but with no time and no timed\n"
            t += "            line before it in its file: a run sets it aside\n"
            return t
        }
        switch e.outcome {
        case .record:
            let r = e.record!
            t += "result      \(r.kind == .acquired ? "an" : "a") \(r.kind.rawValue) record by rule \(rule): profile=\(TextPrinter.escaped(r.profile))"
            if let s = r.symbol { t += " symbol=\(TextPrinter.escaped(s))" }
            if let o = r.owner { t += " owner=\(TextPrinter.escaped(o))" }
            if let c = r.caller { t += " caller=\(TextPrinter.escaped(c))" }
            if let h = r.host { t += " host=\(TextPrinter.escaped(h))" }
            if let x = r.expires { t += " expires=\(x.rfc3339)" }
            if r.kind == .failed || r.kind == .warning { t += " skipped_signal=\(r.skipped)" }
            t += " at \(r.time.rfc3339)\n"
        case .noProfile:
            t += "result      not a record: rule \(rule) matched, but the line has no profile id (docs/semantics.md, \"Records\")\n"
        case .limitExceeded:
            t += "result      not a record: rule \(rule) hit the PCRE2 match limit (a run counts the line as unparsed)\n"
        case .none:
            if let miss = e.nearestMiss {
                t += "result      not a lock record; " + paint("nearest miss: rule \(miss.name)", "1;33") + " — its literal occurs but its pattern does not match:\n"
                t += "              \(miss.pattern)\n"
            } else {
                t += "result      not a lock record: no rule's literal occurs in the subject\n"
            }
        }
        return t
    }
}
