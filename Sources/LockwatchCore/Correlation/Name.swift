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

/// The process's intern table: append-only, safe from any thread.
///
/// Compact, because every distinct profile, symbol, holder and host ever seen stays in it:
/// the bytes in 1 MiB blocks, an offset and length per name, and an open-addressing index of
/// ids — about 20 bytes a name beyond its text, with no large reallocation of the text.
final class NameTable: @unchecked Sendable {
    // Everything below is guarded by `lock`.
    static let shared = NameTable()
    private let lock = NSLock()
    private var blocks: [UnsafeMutableRawPointer] = []
    private var blockUsed = 0
    private static let blockBytes = 1 << 20
    /// Per id: where its bytes are (block, offset, length packed in one word).
    private var places: [UInt64] = []
    /// Open addressing over ids; `UInt32.max` is empty.
    private var index = [UInt32](repeating: .max, count: 1024)

    func name(_ text: String) -> Name {
        var copy = text
        return copy.withUTF8 { name(UnsafeRawBufferPointer($0)) }
    }

    func name(_ text: UnsafeRawBufferPointer) -> Name {
        // A name is at most a block long (longer ones are cut, the same way every time).
        let bytes = text.count < Self.blockBytes ? text : UnsafeRawBufferPointer(rebasing: text[0..<(Self.blockBytes - 1)])
        let h = NameCache.hash(bytes)
        lock.lock()
        defer { lock.unlock() }
        var i = Int(truncatingIfNeeded: h) & (index.count - 1)
        while index[i] != .max {
            if equal(index[i], bytes) { return Name(id: index[i]) }
            i = (i + 1) & (index.count - 1)
        }
        let id = UInt32(places.count)
        places.append(store(bytes))
        index[i] = id
        if places.count * 2 > index.count { grow() }
        return Name(id: id)
    }

    func string(_ name: Name) -> String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes(of: name.id), as: UTF8.self)
    }

    /// Orders two names by their bytes (as their texts order), without making strings.
    func precedes(_ a: Name, _ b: Name) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let x = bytes(of: a.id), y = bytes(of: b.id)
        let n = min(x.count, y.count)
        let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
        return c != 0 ? c < 0 : x.count < y.count
    }

    private func bytes(of id: UInt32) -> UnsafeRawBufferPointer {
        let p = places[Int(id)]
        return UnsafeRawBufferPointer(start: blocks[Int(p >> 40)] + Int(p >> 20 & 0xFFFFF), count: Int(p & 0xFFFFF))
    }

    private func equal(_ id: UInt32, _ b: UnsafeRawBufferPointer) -> Bool {
        let mine = bytes(of: id)
        return mine.count == b.count && (b.isEmpty || memcmp(mine.baseAddress!, b.baseAddress!, b.count) == 0)
    }

    /// Copies the bytes (at most a block) into a block.
    private func store(_ b: UnsafeRawBufferPointer) -> UInt64 {
        let n = b.count
        if blocks.isEmpty || blockUsed + n > Self.blockBytes {
            blocks.append(.allocate(byteCount: Self.blockBytes, alignment: 8))
            blockUsed = 0
        }
        if n > 0 { (blocks[blocks.count - 1] + blockUsed).copyMemory(from: b.baseAddress!, byteCount: n) }
        defer { blockUsed += n }
        return UInt64(blocks.count - 1) << 40 | UInt64(blockUsed) << 20 | UInt64(n)
    }

    private func grow() {
        var bigger = [UInt32](repeating: .max, count: index.count * 2)
        for id in index where id != .max {
            var i = Int(truncatingIfNeeded: NameCache.hash(bytes(of: id))) & (bigger.count - 1)
            while bigger[i] != .max { i = (i + 1) & (bigger.count - 1) }
            bigger[i] = id
        }
        index = bigger
    }
}

/// One thread's cache in front of the shared table, so that a worker takes the lock only for
/// names it has not seen lately, and looks the others up from their bytes without making a
/// String: open addressing over byte strings kept in one arena, in C (`lw_names`). It holds at
/// most `limit` names and starts over when full, so that its memory does not grow with the input.
final class NameCache {
    /// The C cache of this thread's names.
    private let cache: UnsafeMutablePointer<lw_names>

    init(limit: Int = 1 << 16) {
        guard let c = lw_names_new(limit) else { fatalError("out of memory for the name cache") }
        cache = c
    }

    deinit { lw_names_free(cache) }

    func name(_ text: String) -> Name {
        var copy = text
        return copy.withUTF8 { name(UnsafeRawBufferPointer($0)) }
    }

    func name(_ bytes: UnsafeRawBufferPointer) -> Name {
        let p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var h: UInt64 = 0
        let cached = lw_names_find(cache, p, bytes.count, &h)
        if cached != .max { return Name(id: cached) }
        let n = NameTable.shared.name(bytes)
        _ = lw_names_put(cache, p, bytes.count, h, n.id)
        return n
    }

    /// A fast hash of short byte strings: eight bytes at a time, multiplied and folded.
    static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        lw_name_hash(b.baseAddress?.assumingMemoryBound(to: UInt8.self), b.count)
    }
}
