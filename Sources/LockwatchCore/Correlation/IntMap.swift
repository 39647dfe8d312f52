/// A hash map from 64-bit keys (name ids, or two of them) to plain values, by open addressing
/// with linear probing, at most half full: the per-record tables of pairing and correlation.
///
/// `Dictionary` was the correlating thread's largest cost: a lookup goes through the generic
/// hashing protocol and a probe of separate storage; here a key is multiplied once and compared
/// as an integer. A value type with copy-on-write storage, like the standard collections.
/// Removal shifts the following entries back (no tombstones), so that lookups stay short
/// however many keys come and go.
struct IntMap<Value: BitwiseCopyable>: Sendable {
    private final class Storage: @unchecked Sendable {
        // Owned by one map at a time (copied before a shared one is changed).
        let keys: UnsafeMutablePointer<UInt64>
        let values: UnsafeMutablePointer<Value>
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            keys = .allocate(capacity: capacity)
            keys.initialize(repeating: IntMap.empty, count: capacity)
            values = .allocate(capacity: capacity)
        }

        deinit {
            keys.deallocate()
            values.deallocate()
        }

        func copy(capacity: Int) -> Storage {
            let s = Storage(capacity: capacity)
            for i in 0..<self.capacity where keys[i] != IntMap.empty { s.insertNew(keys[i], values[i]) }
            return s
        }

        @inline(__always) func home(_ key: UInt64) -> Int {
            Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & (capacity - 1)
        }

        /// The slot of `key`, or nil.
        @inline(__always) func find(_ key: UInt64) -> Int? {
            var i = home(key)
            while true {
                let k = keys[i]
                if k == key { return i }
                if k == IntMap.empty { return nil }
                i = (i + 1) & (capacity - 1)
            }
        }

        /// Adds a key known to be absent (room known to be there).
        func insertNew(_ key: UInt64, _ value: Value) {
            var i = home(key)
            while keys[i] != IntMap.empty { i = (i + 1) & (capacity - 1) }
            keys[i] = key
            values[i] = value
            count += 1
        }

        /// Empties slot `i` and moves back the entries after it that its emptiness would hide.
        func remove(at slot: Int) {
            var hole = slot
            var i = (slot + 1) & (capacity - 1)
            while keys[i] != IntMap.empty {
                let h = home(keys[i])
                // The entry at i may fill the hole if its home is not in (hole, i], cyclically.
                let movable = hole <= i ? (h <= hole || h > i) : (h <= hole && h > i)
                if movable {
                    keys[hole] = keys[i]
                    values[hole] = values[i]
                    hole = i
                }
                i = (i + 1) & (capacity - 1)
            }
            keys[hole] = IntMap.empty
            count -= 1
        }
    }

    /// No key may be this (a name id is 32 bits; a pair of them is never all ones).
    static var empty: UInt64 { .max }

    private var storage = Storage(capacity: 16)

    init() {}

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    subscript(key: UInt64) -> Value? {
        get { storage.find(key).map { storage.values[$0] } }
        set {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(capacity: storage.capacity) }
            if let i = storage.find(key) {
                if let newValue { storage.values[i] = newValue } else { storage.remove(at: i) }
            } else if let newValue {
                if (storage.count + 1) * 2 > storage.capacity { storage = storage.copy(capacity: storage.capacity * 2) }
                storage.insertNew(key, newValue)
            }
        }
    }

    /// Empties the map, keeping its capacity.
    mutating func removeAll() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(capacity: storage.capacity); return }
        storage.keys.update(repeating: Self.empty, count: storage.capacity)
        storage.count = 0
    }

    /// The entries, in no particular order.
    var entries: [(key: UInt64, value: Value)] {
        var out: [(key: UInt64, value: Value)] = []
        out.reserveCapacity(storage.count)
        for i in 0..<storage.capacity where storage.keys[i] != Self.empty { out.append((storage.keys[i], storage.values[i])) }
        return out
    }
}
