import Foundation

/// An interned string: a profile id, symbol, lock holder or host, as a small integer.
///
/// Correlation hashes and compares these for every record; as integers they cost neither a
/// string hash nor reference counting. The strings come back only for output.
public struct Name: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    let id: UInt32

    init(id: UInt32) { self.id = id }

    /// The name of `text` in the process's table.
    public init(_ text: String) { self = NameTable.shared.name(text) }

    public init(stringLiteral text: String) { self.init(text) }

    /// The text of this name.
    public var string: String { NameTable.shared.string(self) }

    public var description: String { string }

    /// The empty name: a key's symbol when no record had one.
    public static let empty = Name("")
}

/// The process's intern table: append-only, safe from any thread.
final class NameTable: @unchecked Sendable {
    // `ids` and `strings` are guarded by `lock`.
    static let shared = NameTable()
    private let lock = NSLock()
    private var ids: [String: UInt32] = [:]
    private var strings: [String] = []

    func name(_ text: String) -> Name {
        lock.lock()
        defer { lock.unlock() }
        if let id = ids[text] { return Name(id: id) }
        let id = UInt32(strings.count)
        strings.append(text)
        ids[text] = id
        return Name(id: id)
    }

    func string(_ name: Name) -> String {
        lock.lock()
        defer { lock.unlock() }
        return strings[Int(name.id)]
    }
}

/// One thread's cache in front of the shared table, so that a worker takes the lock only for
/// strings it has not seen before.
final class NameCache {
    private var names: [String: Name] = [:]

    func name(_ text: String) -> Name {
        if let n = names[text] { return n }
        let n = NameTable.shared.name(text)
        names[text] = n
        return n
    }
}
