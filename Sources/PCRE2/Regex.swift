// PCRE2: the only module that touches PCRE2's pointers.
//
// A `Regex` is compiled once (with the JIT where the library has it) and is immutable after,
// so one value may be shared by threads; each thread matches with its own `MatchData`.
// Offsets are byte offsets into the UTF-8 subject, never Character counts.

import CPCRE2

/// A compile failure, with PCRE2's message and the byte offset in the pattern where it stopped.
public struct RegexCompileError: Error, CustomStringConvertible, Sendable {
    /// The pattern as given.
    public let pattern: String
    /// PCRE2's own description of the error.
    public let message: String
    /// Byte offset in the pattern at which PCRE2 stopped.
    public let offset: Int

    public var description: String { "\(message) at offset \(offset) in pattern \(pattern)" }
}

/// Why a match attempt ended without a yes or no answer.
public enum RegexMatchError: Error, Equatable, Sendable {
    /// The match or depth limit was hit: the pattern backtracks too much on this subject.
    case limitExceeded
    /// Any other negative PCRE2 return code.
    case failed(code: Int32, message: String)
}

/// Options for compiling a pattern.
public struct RegexOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Letters match regardless of case.
    public static let caseless = RegexOptions(rawValue: PCRE2_CASELESS)
    /// Treat the pattern and subject as UTF-8 (invalid subjects are not checked: see `match`).
    public static let utf = RegexOptions(rawValue: PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
}

/// A compiled PCRE2 pattern with its named groups.
///
/// Compile once, match many times: compiling is the expensive part, and the JIT makes a
/// match on a short log line cost well under a microsecond.
///
///     let re = try Regex(#"profile=(?<profile>\S+)"#)
///     let md = re.makeMatchData()
///     if try re.matches("a profile=p1 b", with: md) { md.range(of: "profile") }
public final class Regex: @unchecked Sendable {
    // Safe to share: PCRE2 compiled code is read-only after compilation and JIT compilation.
    private let code: OpaquePointer
    private let matchContext: OpaquePointer?
    /// The pattern as given.
    public let pattern: String
    /// Whether PCRE2's JIT compiled this pattern (it is absent on some platforms).
    public let isJIT: Bool
    /// Whether matches may take PCRE2's JIT fast path, which checks no subject for UTF
    /// validity: JIT code, and either no UTF mode or one that copes with invalid UTF (the
    /// pattern's final options, so that a `(*UTF)` in the pattern counts too).
    private let jitFastPath: Bool
    /// Named groups and their group numbers, in the order they appear in the name table.
    public let groupNames: [(name: String, number: Int)]

    /// Compiles `pattern`, with the JIT where available.
    ///
    /// - Parameters:
    ///   - matchLimit: PCRE2's match limit, so that a pathological pattern cannot hang a run.
    ///   - depthLimit: PCRE2's backtracking depth limit.
    /// - Throws: `RegexCompileError` with PCRE2's message and the offset in the pattern.
    public init(_ pattern: String, options: RegexOptions = [], matchLimit: UInt32 = 1_000_000,
                depthLimit: UInt32 = 10_000) throws {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled: OpaquePointer? = pattern.utf8CString.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: buf.count) { p in
                lw_pcre2_compile(p, buf.count - 1, options.rawValue, &errorCode, &errorOffset)
            }
        }
        guard let compiled else {
            throw RegexCompileError(pattern: pattern, message: Regex.message(for: errorCode), offset: errorOffset)
        }
        self.code = compiled
        self.pattern = pattern
        self.isJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
        var all: UInt32 = 0
        let known = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_ALLOPTIONS), &all) == 0
        self.jitFastPath = isJIT && known && (all & PCRE2_UTF == 0 || all & PCRE2_MATCH_INVALID_UTF != 0)
        let context = pcre2_match_context_create_8(nil)
        if let context {
            pcre2_set_match_limit_8(context, matchLimit)
            pcre2_set_depth_limit_8(context, depthLimit)
        }
        self.matchContext = context
        self.groupNames = Regex.readNameTable(compiled)
    }

    deinit {
        pcre2_code_free_8(code)
        if let matchContext { pcre2_match_context_free_8(matchContext) }
    }

    /// Makes match data sized for this pattern; reuse it across matches on one thread.
    public func makeMatchData() -> MatchData { MatchData(code: code) }

    /// The group number of a named group, or nil when the pattern has no such name.
    public func groupNumber(of name: String) -> Int? {
        groupNames.first { $0.name == name }?.number
    }

    /// Matches the bytes at `subject` of `count` bytes; fills `data` on success.
    ///
    /// - Returns: true on a match, false on no match.
    /// - Throws: `RegexMatchError.limitExceeded` when a limit stopped the search.
    public func matches(_ subject: UnsafeRawBufferPointer, with data: MatchData) throws -> Bool {
        let rc = Regex.rawMatch(code: code, context: matchContext, data: data.pointer, jit: jitFastPath, subject)
        if rc >= 0 { return true }
        if rc == PCRE2_ERROR_NOMATCH { return false }
        if Regex.isLimit(rc) { throw RegexMatchError.limitExceeded }
        throw RegexMatchError.failed(code: rc, message: Regex.message(for: rc))
    }

    /// The compiled code, the match context and whether the JIT fast path may be taken, for
    /// `RegexSet`, which keeps the regex alive and matches without reference counting.
    fileprivate var handles: (code: OpaquePointer, context: OpaquePointer?, jit: Bool) { (code, matchContext, jitFastPath) }

    /// `matches(_:with:)` on raw handles (see `handles`): the PCRE2 return code, negative
    /// when there is no match or an error.
    @inline(__always)
    fileprivate static func rawMatch(code: OpaquePointer, context: OpaquePointer?, data: OpaquePointer, jit: Bool,
                                 _ subject: UnsafeRawBufferPointer) -> Int32 {
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer<UInt8>(bitPattern: 1)!
        // JIT code that copes with any subject goes straight to it (PCRE2's fast path, which
        // skips the checks of options this library never passes); see `jitFastPath`.
        if jit { return pcre2_jit_match_8(code, base, subject.count, 0, 0, data, context) }
        return pcre2_match_8(code, base, subject.count, 0, 0, data, context)
    }

    /// Whether a return code of `rawMatch` is a limit stopping the search.
    fileprivate static func isLimit(_ rc: Int32) -> Bool {
        rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT
            || rc == PCRE2_ERROR_JIT_STACKLIMIT
    }

    /// Convenience for tests and cold paths: matches a `String`'s UTF-8 bytes.
    public func matches(_ subject: String, with data: MatchData) throws -> Bool {
        var copy = subject
        return try copy.withUTF8 { try matches(UnsafeRawBufferPointer($0), with: data) }
    }

    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "PCRE2 error \(code)"
    }

    private static func readNameTable(_ code: OpaquePointer) -> [(name: String, number: Int)] {
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard count > 0, let table else { return [] }
        var names: [(String, Int)] = []
        for i in 0..<Int(count) {
            let entry = table + i * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            var end = 2
            while end < Int(entrySize) && entry[end] != 0 { end += 1 }
            let name = String(decoding: UnsafeBufferPointer(start: entry + 2, count: end - 2), as: UTF8.self)
            names.append((name, number))
        }
        return names
    }
}

/// PCRE2 match data: the ovector of the last successful match. One per thread.
public final class MatchData {
    fileprivate let pointer: OpaquePointer

    init(code: OpaquePointer) {
        pointer = pcre2_match_data_create_from_pattern_8(code, nil)
    }

    deinit { pcre2_match_data_free_8(pointer) }

    /// The byte range of group `number` in the last match, or nil when it did not take part.
    public func range(ofGroup number: Int) -> Range<Int>? {
        guard number < Int(pcre2_get_ovector_count_8(pointer)) else { return nil }
        let ovector = pcre2_get_ovector_pointer_8(pointer)!
        let start = ovector[2 * number]
        let end = ovector[2 * number + 1]
        if start == lw_pcre2_unset() || end < start { return nil }
        return Int(start)..<Int(end)
    }
}

/// Several compiled patterns, matched by their index on one thread, each with its own match
/// data: what a loop over rules needs, without reference counting on each match. The raw
/// handles stay inside this module.
public final class RegexSet {
    /// What one match attempt gave.
    public enum Outcome: Sendable {
        case matched
        /// No match, or an error other than a limit.
        case noMatch
        /// The match or depth limit stopped the search.
        case limitExceeded
    }

    private struct Handles {
        var code: OpaquePointer
        var context: OpaquePointer?
        var data: OpaquePointer
        var jit: Bool
    }

    /// The patterns, kept alive for the handles.
    private let regexes: [Regex]
    private let matchData: [MatchData]
    private let handles: UnsafeMutableBufferPointer<Handles>

    public init(_ regexes: [Regex]) {
        self.regexes = regexes
        matchData = regexes.map { $0.makeMatchData() }
        handles = .allocate(capacity: regexes.count)
        for (k, r) in regexes.enumerated() {
            let h = r.handles
            handles[k] = Handles(code: h.code, context: h.context, data: matchData[k].pointer, jit: h.jit)
        }
    }

    deinit { handles.deallocate() }

    /// Matches pattern `k` against `subject`.
    @inline(__always)
    public func match(_ k: Int, _ subject: UnsafeRawBufferPointer) -> Outcome {
        let h = handles[k]
        let rc = Regex.rawMatch(code: h.code, context: h.context, data: h.data, jit: h.jit, subject)
        return rc >= 0 ? .matched : Regex.isLimit(rc) ? .limitExceeded : .noMatch
    }

    /// The byte range of group `number` in pattern `k`'s last match, or nil.
    public func range(ofGroup number: Int, in k: Int) -> Range<Int>? { matchData[k].range(ofGroup: number) }
}
