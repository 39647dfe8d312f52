/// A growable run of bytes in which output lines are built: an append is a capacity check and
/// a copy. (An array's `append(contentsOf:)` costs several times that; an event line is some
/// twenty appends, and a storm prints a hundred thousand lines.)
///
/// A reference type with one owner: a printer keeps one and empties it for each line. Builders
/// of a kind of line subclass it, so that their appends go straight to its storage.
class ByteBuffer {
    private(set) var start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = max(16, capacity)
        start = .allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    /// Empties the buffer, keeping its memory.
    @inline(__always) final func removeAll() { count = 0 }

    @inline(__always) final func append(_ b: UInt8) {
        if count == capacity { grow(1) }
        start[count] = b
        count += 1
    }

    @inline(__always) final func append(_ p: UnsafeRawPointer, count n: Int) {
        if capacity - count < n { grow(n) }
        (start + count).update(from: p.assumingMemoryBound(to: UInt8.self), count: n)
        count += n
    }

    @inline(__always) final func append(_ b: UnsafeRawBufferPointer) {
        if let p = b.baseAddress { append(p, count: b.count) }
    }

    @inline(__always) final func append(_ s: StaticString) { append(s.utf8Start, count: s.utf8CodeUnitCount) }

    final func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// A String's UTF-8 (named apart, so that a literal picks the `StaticString` append).
    final func append(string s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Room for `n` more bytes, written by the caller, who then calls `advance(by:)`.
    @inline(__always) final func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if capacity - count < n { grow(n) }
        return start + count
    }

    @inline(__always) final func advance(by n: Int) { count += n }

    final func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: start, count: count))
    }

    final var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    final var string: String { String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self) }

    @inline(never) private final func grow(_ n: Int) {
        var c = capacity * 2
        while c - count < n { c *= 2 }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        p.update(from: start, count: count)
        start.deallocate()
        start = p
        capacity = c
    }
}
