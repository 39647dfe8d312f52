/// A first-in first-out queue of plain values in one ring of storage: the queues that ordering,
/// pairing and correlation keep for every record.
///
/// The ring is a pointer, a head and a count, and the element at an offset is one masked
/// index: looking at the first element and removing it copy nothing and call no closure (as
/// `Deque`'s accessors do; BENCHMARKS.md has the measurement). A value type with
/// copy-on-write storage, like the standard collections.
struct Ring<Element: BitwiseCopyable>: Sendable, RandomAccessCollection {
    private final class Storage: @unchecked Sendable {
        // Owned by one ring at a time (copied before a shared one is changed).
        let base: UnsafeMutablePointer<Element>
        /// A power of two.
        let capacity: Int
        var head = 0
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit { base.deallocate() }

        @inline(__always) func slot(_ i: Int) -> Int { (head &+ i) & (capacity &- 1) }

        func copy(capacity: Int) -> Storage {
            let s = Storage(capacity: capacity)
            for i in 0..<count { s.base[i] = base[slot(i)] }
            s.count = count
            return s
        }
    }

    private var storage = Storage(capacity: 16)

    init() {}

    init<S: Sequence<Element>>(_ elements: S) {
        for e in elements { append(e) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { storage.count }
    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// The element `i` places after the first.
    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < storage.count, "Ring index out of range")
            return storage.base[storage.slot(i)]
        }
        _modify {
            precondition(i >= 0 && i < storage.count, "Ring index out of range")
            unique()
            yield &storage.base[storage.slot(i)]
        }
    }

    var first: Element? { storage.count == 0 ? nil : storage.base[storage.head] }

    /// Reads the first element where it is, nil when there is none: `first` copies all of it.
    @inline(__always) func withFirst<T>(_ read: (UnsafePointer<Element>) -> T) -> T? {
        storage.count == 0 ? nil : read(storage.base + storage.head)
    }
    var last: Element? { storage.count == 0 ? nil : storage.base[storage.slot(storage.count - 1)] }

    @inline(__always) private mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(capacity: storage.capacity) }
    }

    @inline(__always) private mutating func reserveOne() {
        if !isKnownUniquelyReferenced(&storage) || storage.count == storage.capacity {
            storage = storage.copy(capacity: storage.count == storage.capacity ? storage.capacity * 2 : storage.capacity)
        }
    }

    mutating func append(_ e: Element) {
        reserveOne()
        storage.base[storage.slot(storage.count)] = e
        storage.count += 1
    }

    /// Inserts `e` so that it is the element `i` places after the first; the later ones move back.
    mutating func insert(_ e: Element, at i: Int) {
        precondition(i >= 0 && i <= storage.count, "Ring index out of range")
        reserveOne()
        var k = storage.count
        while k > i {
            storage.base[storage.slot(k)] = storage.base[storage.slot(k - 1)]
            k -= 1
        }
        storage.base[storage.slot(i)] = e
        storage.count += 1
    }

    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(storage.count > 0, "removeFirst on an empty Ring")
        unique()
        let e = storage.base[storage.head]
        storage.head = storage.slot(1)
        storage.count -= 1
        return e
    }

    mutating func popFirst() -> Element? { isEmpty ? nil : removeFirst() }

    /// Empties the ring, keeping its capacity.
    mutating func removeAll() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(capacity: storage.capacity); return }
        storage.head = 0
        storage.count = 0
    }
}
