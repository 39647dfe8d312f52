import CScan
import PCRE2
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// The built-in rules' shortcuts (`Shortcut`) against their patterns: a proof that holds must
/// be a match, a missing required literal must be a miss, and matching with shortcuts must give
/// what matching without them gives.
@Suite struct ShortcutTests {
    private static let proofs: [(name: String, pattern: Regex, proof: Shortcut.Proof)] = {
        var out = DefaultRules.rules().compactMap { r in r.shortcut?.proof.map { (r.name, r.regex, $0) } }
        // The skip phrase's, which the matcher holds.
        out.append(("skip phrase", try! Regex(#"(?i)\bskipping signal\b"#),
                    Shortcut.Proof(text: Literal("skipping signal", caseInsensitive: true), wordBefore: true, after: 1)))
        return out
    }()

    private static func holds(_ proof: Shortcut.Proof, _ subject: [UInt8]) -> Bool {
        let tables = Prefilter(literals: [proof.text])
        return subject.withUnsafeBytes { proof.holds(in: $0, tables.rawTables!) } == true
    }

    private static func matches(_ regex: Regex, _ subject: [UInt8]) -> Bool {
        let data = regex.makeMatchData()
        return subject.withUnsafeBytes { (try? regex.matches($0, with: data)) ?? false }
    }

    /// Every byte before and after a proof's text: the proof holds exactly where the pattern
    /// matches (a wrong word class, `-` or a byte from 0x80 up shows here).
    @Test func boundariesAgreeForEveryByte() {
        for (name, regex, proof) in Self.proofs {
            let text = Array(proof.text.text.utf8)
            for b in 0...255 {
                for subject in [[UInt8(b)] + text, text + [UInt8(b)], [UInt8(b)] + text + [UInt8(b)]] {
                    #expect(Self.holds(proof, subject) == Self.matches(regex, subject), "\(name): byte \(b)")
                }
            }
            // Some of the same in two bytes: é, K (Kelvin), a lone continuation byte.
            for neighbour: [UInt8] in [[0xC3, 0xA9], [0xE2, 0x84, 0xAA], [0x80], [0xFF]] {
                let subject = neighbour + text + neighbour
                #expect(Self.holds(proof, subject) == Self.matches(regex, subject), "\(name): \(neighbour)")
            }
        }
    }

    private static let pieces = [
        "fn_try_acquire_entry_lock_row", "fn_release_entry_lock_row", " returned ", " returned: ", " -> ", "=", "false",
        "true", "FALSE", "(", ")", "\"", ":", " ", "\t", "-", "_", "x", "9", "é", "fn=", "result=", "ok=", "acquired=",
        "entry lock released", "Entry Lock Released", "entry  lock released", "lock acquisition failed",
        "LOCK ACQUISITION FAILED", "lock acquisition failedx", "skipping signal", "Skipping Signal", "skipping signals",
        "profile_id=p1", "\n", "lockContentionCount=", " tradingLoopHealthy=true", "lock3x failed", "lock9x",
    ]

    /// Random subjects built from the patterns' own pieces (so that near misses are common):
    /// where a proof holds the pattern matches; where a required literal is missing it does not.
    @Test func proofsAndRequiredLiteralsAreSound() {
        var g = TestRandom()
        let rules = DefaultRules.rules()
        var held = 0, refused = 0
        for _ in 0..<30_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...8, using: &g) { text += Self.pieces.randomElement(using: &g)! }
            let subject = Array(text.utf8)
            for (name, regex, proof) in Self.proofs where Self.holds(proof, subject) {
                held += 1
                #expect(Self.matches(regex, subject), "\(name) proved on \(text.debugDescription)")
            }
            for rule in rules {
                guard let requires = rule.shortcut?.requires else { continue }
                let missing = requires.contains { !Prefilter(literals: [$0]).admits(subject.withUnsafeBytes { $0 }) }
                guard missing else { continue }
                refused += 1
                #expect(!Self.matches(rule.regex, subject), "\(rule.name) refused \(text.debugDescription)")
            }
        }
        // Not vacuous: both kinds of test decide many subjects.
        #expect(held > 1000 && refused > 10_000, "\(held) proved, \(refused) refused")
    }

    private static func same(_ a: (MatchOutcome, LockRecord?), _ b: (MatchOutcome, LockRecord?)) -> Bool {
        a.0 == b.0 && a.1 == b.1
    }

    /// Rules of one's own (`lock<k>x failed`), tried before the built-in ones, each with a
    /// gate of its own: more gates than Teddy has buckets, and more literals than one set holds.
    static func rules(own: Int) -> [Rule] {
        (0..<own).map { k in try! Rule(name: "own-\(k)", kind: .failed, pattern: #"\block\#(k)x failed\b"#, literals: [Literal("lock\(k)x")]) }
            + DefaultRules.rules()
    }

    /// Whole lines through the matcher, with and without shortcuts, with and without rules of
    /// one's own: the same outcome, record included (kind, skipped).
    @Test(arguments: [0, 4, 10]) func matcherAgreesWithoutShortcuts(own: Int) {
        var g = TestRandom()
        let decoder = RecordDecoder(year: 2026)
        let fast = Matcher(rules: Self.rules(own: own), timestamps: TimestampParser())
        let plain = Matcher(rules: Self.rules(own: own), timestamps: TimestampParser(), shortcuts: false)
        var records = 0
        for _ in 0..<20_000 {
            var text = ["2026-11-26 14:00:00,001 WARNING x: ", "", "{\"msg\":\""].randomElement(using: &g)!
            for _ in 0..<Int.random(in: 1...8, using: &g) { text += Self.pieces.randomElement(using: &g)! }
            text += " profile_id=p1 symbol=S"
            if text.hasPrefix("{") { text = text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "{'msg':'", with: "{\"msg\":\"") + "\"}" }
            var line = text
            guard let rec = line.withUTF8({ try? decoder.decode(UnsafeRawBufferPointer($0)).get() }) else { continue }
            let a = fast.match(rec, origin: Origin(input: 0, line: 1))
            let b = plain.match(rec, origin: Origin(input: 0, line: 1))
            if case .record = b.outcome { records += 1 }
            #expect(Self.same(a, b), "\(text.debugDescription)")
        }
        #expect(records > 1000, "\(records) records")
    }
}
