import Testing
@testable import PCRE2

@Suite struct RegexTests {
    @Test func namedGroupsGiveByteRanges() throws {
        let re = try Regex(#"profile=(?<profile>\S+) sym=(?<symbol>\S+)"#, options: [.utf])
        let md = re.makeMatchData()
        let subject = "é profile=p1 sym=ETH-USD"
        #expect(try re.matches(subject, with: md))
        let group = try #require(re.groupNumber(of: "symbol"))
        let r = try #require(md.range(ofGroup: group))
        // Byte offsets: "é" is two bytes in UTF-8.
        #expect(Array(subject.utf8)[r].count == 7)
        #expect(r.lowerBound == 18)
        #expect(re.groupNames.map(\.name).sorted() == ["profile", "symbol"])
    }

    @Test func noMatchIsFalseNotAnError() throws {
        let re = try Regex("lock acquisition failed", options: [.caseless])
        #expect(try re.matches("all good", with: re.makeMatchData()) == false)
        #expect(try re.matches("LOCK ACQUISITION FAILED", with: re.makeMatchData()))
    }

    @Test func compileErrorsCarryTheOffset() {
        #expect {
            _ = try Regex("abc(def")
        } throws: { error in
            guard let e = error as? RegexCompileError else { return false }
            return e.offset == 7 && e.message.contains("missing closing parenthesis")
        }
    }

    @Test func pathologicalPatternHitsTheLimitInsteadOfHanging() throws {
        let re = try Regex("^(a+)+$", matchLimit: 10_000)
        let subject = String(repeating: "a", count: 40) + "b"
        #expect(throws: RegexMatchError.limitExceeded) { try re.matches(subject, with: re.makeMatchData()) }
    }

    /// A `(*UTF)` inside the pattern turns UTF mode on without the option that makes invalid
    /// subjects safe for the JIT fast path: such a pattern takes PCRE2's checked path, which
    /// reports the invalid subject instead of reading it.
    @Test func utfInThePatternTakesTheCheckedPath() throws {
        let re = try Regex("(*UTF)false")
        let bytes: [UInt8] = [0xFF, 0xFE, 0x20] + Array("returned false".utf8)
        #expect(throws: RegexMatchError.self) { try bytes.withUnsafeBytes { try re.matches($0, with: re.makeMatchData()) } }
        #expect(try re.matches("returned false", with: re.makeMatchData()))
    }

    @Test func invalidUTF8SubjectsDoNotFail() throws {
        let re = try Regex("false", options: [.utf])
        let bytes: [UInt8] = [0xFF, 0xFE, 0x20] + Array("returned false".utf8)
        let hit = try bytes.withUnsafeBytes { try re.matches($0, with: re.makeMatchData()) }
        #expect(hit)
    }
}
