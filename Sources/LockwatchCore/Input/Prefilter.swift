import CScan

/// A literal that every line a rule matches contains: the cheap first test, before any decoding or regex.
public struct Literal: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    /// Whether ASCII letters match in any case.
    public var caseInsensitive: Bool

    public init(_ text: String, caseInsensitive: Bool = false) {
        self.text = text
        self.caseInsensitive = caseInsensitive
    }

    public var description: String { caseInsensitive ? "(?i)\(text)" : text }

    /// Whether a line that contains `other` always contains this literal too. Case is folded
    /// as the search folds it, ASCII letters only: `lowercased()` would also fold `É` to `é`,
    /// which the search does not, and drop a literal whose lines it then never finds.
    func isImplied(by other: Literal) -> Bool {
        if caseInsensitive { return Self.asciiLower(other.text).contains(Self.asciiLower(text)) }
        return !other.caseInsensitive && other.text.contains(text)
    }

    private static func asciiLower(_ s: String) -> [UInt8] {
        s.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }
    }
}

/// Finds the lines that may be lock lines: those containing one of a few literals.
///
/// Most lines of a worker's log are not lock lines. They are skipped by one SIMD pass over
/// the whole buffer (two rare bytes of each literal at their distance, then a full compare),
/// without being split, decoded or matched — as ripgrep does with its literal prefilter.
public struct Prefilter: Sendable {
    /// The literals; empty means every line is a candidate.
    public let literals: [Literal]
    private let set: LiteralTables

    /// The compiled tables, boxed at a fixed address: they are a kilobyte, a prefilter is
    /// copied freely, and the search must not copy them for each call.
    private final class LiteralTables: @unchecked Sendable {
        // Written once, in init; read-only afterwards.
        let tables: UnsafeMutablePointer<lw_literals>
        init(_ t: lw_literals) {
            tables = .allocate(capacity: 1)
            tables.initialize(to: t)
        }
        deinit { tables.deallocate() }
    }

    /// Keeps only the literals that no other literal implies, at most 16 (more admit everything).
    public init(literals: [Literal]) {
        var kept: [Literal] = []
        for l in Set(literals).sorted(by: { ($0.text.utf8.count, $0.description) < ($1.text.utf8.count, $1.description) })
        where !l.text.isEmpty && !kept.contains(where: { $0.isImplied(by: l) }) {
            kept.append(l)
        }
        var set = lw_literals()
        for l in kept {
            var text = l.text
            let added = text.withUTF8 { lw_literals_add(&set, $0.baseAddress, $0.count, l.caseInsensitive ? 1 : 0) }
            if added != 0 { kept = []; set = lw_literals(); break }
        }
        self.literals = kept
        self.set = LiteralTables(set)
    }

    /// A prefilter that lets every line through (a rule without literals).
    public static let everything = Prefilter(literals: [])

    /// The offset in `bytes` at which a literal starts, or nil when none occurs: with several
    /// literals, the one whose search window (Teddy's three bytes) comes first, so another may
    /// start before it, by less than that one's length.
    public func firstHit(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard !literals.isEmpty else { return bytes.isEmpty ? nil : 0 }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let at = lw_find_literal(set.tables, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        return at < bytes.count ? at : nil
    }

    /// `firstHit(in:)`, also counting the newlines before the hit (or in all of `bytes`).
    func firstHit(in bytes: UnsafeRawBufferPointer, newlinesBefore: inout Int) -> Int? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { newlinesBefore = 0; return nil }
        guard !literals.isEmpty else { newlinesBefore = 0; return 0 }
        var nl = 0
        let at = lw_find_literal_counting(set.tables, base.assumingMemoryBound(to: UInt8.self), bytes.count, &nl)
        newlinesBefore = nl
        return at < bytes.count ? at : nil
    }

    /// The search tables, for a caller that keeps this prefilter alive (nil admits all).
    var rawTables: UnsafeMutablePointer<lw_literals>? { literals.isEmpty ? nil : set.tables }

    /// Whether a single line passes.
    public func admits(_ line: UnsafeRawBufferPointer) -> Bool {
        literals.isEmpty || firstHit(in: line) != nil
    }
}

/// Counts `\n` bytes (AVX2 where the processor has it).
@inline(__always) func countNewlines(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
    return lw_count_newlines(base.assumingMemoryBound(to: UInt8.self), bytes.count)
}
