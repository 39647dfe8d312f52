import CScan
import Foundation

/// An interned string: a profile id, symbol, lock holder or host, as a small integer.
///
/// Correlation hashes and compares these for every record; as integers they cost neither a
/// string hash nor reference counting. The strings come back only for output.
public struct Name: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral, BitwiseCopyable {
    let id: UInt32

    init(id: UInt32) { self.id = id }

    /// The name of `text` in the process's table.
    public init(_ text: String) { self = NameTable.shared.name(text) }

    public init(stringLiteral text: String) { self.init(text) }

    /// The text of this name.
    public var string: String { NameTable.shared.string(self) }

    public var description: String { string }

    /// The name as a key of an `IntMap`.
    var key: UInt64 { UInt64(id) }

    /// The empty name: a key's symbol when no record had one.
    public static let empty = Name("")

    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Tables of names are hashed for every record: a multiply-and-fold of the id, seeded
    /// per table, instead of a full SipHash.
    public func _rawHashValue(seed: Int) -> Int { mixHash(UInt64(id), seed: seed) }
}

/// A 64-bit mix (splitmix64's finaliser) of a small integer key and a table's seed.
@inline(__always) func mixHash(_ key: UInt64, seed: Int) -> Int {
    var h = key ^ UInt64(bitPattern: Int64(seed)) &* 0x9E37_79B9_7F4A_7C15
    h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
    h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
    return Int(bitPattern: UInt(h ^ (h >> 31)))
}

/// The process's intern table: append-only, safe from any thread, in C (`lw_intern`). A name
/// already in it is found without a lock, so workers intern each record's names themselves;
/// every distinct profile, symbol, holder and host ever seen stays in it, some 16 to 24 bytes a
/// name beyond its text (its length and id, its place, its index slots). Only its address is held:
/// copying it touches no reference count.
struct NameTable: @unchecked Sendable {
    // The C table guards itself.
    static let shared = NameTable()
    private let table: OpaquePointer

    private init() {
        guard let t = lw_intern_new() else { fatalError("out of memory for the name table") }
        table = t
    }

    func name(_ text: String) -> Name {
        var copy = text
        return copy.withUTF8 { name(UnsafeRawBufferPointer($0)) }
    }

    func name(_ text: UnsafeRawBufferPointer) -> Name {
        let bytes = Self.cut(text)
        let id = lw_intern_name(table, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        guard id != .max else { fatalError("out of memory for the name table") }
        return Name(id: id)
    }

    /// Starts fetching what looking `text` up reads first (see `lw_intern_prefetch`), so that
    /// work between this and `name(text)` hides the wait.
    func prefetch(_ text: UnsafeRawBufferPointer) {
        let bytes = Self.cut(text)
        lw_intern_prefetch(table, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Longer names are cut, the same way every time.
    @inline(__always) private static func cut(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        text.count <= maxBytes ? text : UnsafeRawBufferPointer(rebasing: text[0..<maxBytes])
    }

    private static let maxBytes = Int(LW_NAME_MAX_BYTES)

    func string(_ name: Name) -> String { String(decoding: bytes(of: name), as: UTF8.self) }

    /// Whether `a`'s text comes before `b`'s as `String`'s `<` orders them: from their bytes
    /// wherever `byteOrder` decides, from their strings elsewhere. Two texts that `String`
    /// holds equal (canonically equivalent, as `e` and a combining accent are to `é`) go by
    /// their bytes: the order is total over names.
    func textPrecedes(_ a: Name, _ b: Name) -> Bool {
        if a == b { return false }
        if let order = Self.byteOrder(bytes(of: a), bytes(of: b)) { return order }
        let (x, y) = (string(a), string(b))
        return x != y ? x < y : precedes(a, b)
    }

    /// Whether text `x` comes before text `y` as `String`'s `<` orders them, from their UTF-8
    /// bytes alone, where the bytes up to their first difference and one past it are ASCII;
    /// nil elsewhere. `String`'s order is that of the texts' Unicode scalars once normalized,
    /// and normalizing cannot change an ASCII character that another ASCII character (or the
    /// text's end) follows: only a combining mark after it could.
    static func byteOrder(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool? {
        let n = min(x.count, y.count)
        var i = 0
        while i < n, x[i] == y[i] {
            if x[i] >= 0x80 { return nil }
            i += 1
        }
        func ascii(_ t: UnsafeRawBufferPointer, _ k: Int) -> Bool { k >= t.count || t[k] < 0x80 }
        guard ascii(x, i), ascii(y, i), ascii(x, i + 1), ascii(y, i + 1) else { return nil }
        return i == n ? x.count < y.count : x[i] < y[i]
    }

    /// Each of `names`' place among them in the order of their texts (`textPrecedes`; equal
    /// names, distinct places). The first 8 bytes of each are read once as a word
    /// (`orderWord`), which decides most comparisons without reading the table again.
    func textRanks(_ names: [Name]) -> [Int32] {
        let words = names.map(orderWord)
        var order = Array(names.indices)
        order.sort { a, b in
            if let x = words[a], let y = words[b], x != y { return x < y }
            return textPrecedes(names[a], names[b])
        }
        var ranks = [Int32](repeating: 0, count: names.count)
        for (r, i) in order.enumerated() { ranks[i] = Int32(r) }
        return ranks
    }

    /// The first 8 bytes of a name as a big-endian word (zeros past a shorter one's end) where
    /// its first 9 bytes (all of a shorter one) are ASCII; nil otherwise. Two such words that
    /// differ order their names as `textPrecedes` does: up to the first difference and one byte
    /// past it, all is ASCII (`byteOrder`), and a zero past the end ties with a NUL byte.
    func orderWord(_ name: Name) -> UInt64? {
        let b = bytes(of: name)
        var w: UInt64 = 0
        for i in 0..<min(b.count, 9) {
            if b[i] >= 0x80 { return nil }
            if i < 8 { w |= UInt64(b[i]) << (56 - 8 * i) }
        }
        return w
    }

    /// Orders two names by their bytes, without making strings: a total order, not always
    /// their texts' (`textPrecedes` is that).
    func precedes(_ a: Name, _ b: Name) -> Bool {
        let x = bytes(of: a), y = bytes(of: b)
        let n = min(x.count, y.count)
        let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
        return c != 0 ? c < 0 : x.count < y.count
    }

    /// The bytes of a name's text; they never move, and live as long as the process.
    func bytes(of name: Name) -> UnsafeRawBufferPointer {
        var n = 0
        let p = lw_intern_bytes(table, name.id, &n)
        return UnsafeRawBufferPointer(start: p, count: n)
    }
}
