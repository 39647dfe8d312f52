// Input: byte sources (stdin, files, .gz), the line splitter, and the merge of inputs.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CScan
import CZlib
import Synchronization

/// A source of bytes read in large chunks. `read` returns 0 at end of input.
public protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes; returns how many, 0 at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// A name for messages: the path, or `-` for stdin.
    var name: String { get }
    /// Whether reads may wait for a writer (a pipe, socket or terminal), rather than a file.
    var isStream: Bool { get }
    /// For a stream: whether bytes arrive within `milliseconds` (0 asks without waiting).
    func hasData(within milliseconds: Int32) -> Bool
    /// Bytes of the underlying file consumed so far (compressed bytes for gzip), for progress.
    var position: Int { get }
    /// The size of the underlying file, when it is a regular file.
    var size: Int? { get }
}

extension ByteSource {
    public var isStream: Bool { false }
    public func hasData(within milliseconds: Int32) -> Bool { true }
    public var position: Int { 0 }
    public var size: Int? { nil }
}

/// How far the reading of a run's inputs has got: written by the readers, read by a progress
/// display on another thread.
public final class ReadProgress: Sendable {
    private let consumed = Atomic<Int>(0)
    private let total = Atomic<Int>(0)
    private let known = Atomic<Bool>(true)

    public init() {}

    /// Bytes consumed so far, and the total when every input's size is known.
    public var state: (consumed: Int, total: Int?) {
        (consumed.load(ordering: .relaxed), known.load(ordering: .relaxed) ? total.load(ordering: .relaxed) : nil)
    }

    func add(size: Int?) {
        if let size { total.add(size, ordering: .relaxed) } else { known.store(false, ordering: .relaxed) }
    }

    func consume(_ n: Int) { if n > 0 { consumed.add(n, ordering: .relaxed) } }
}

/// SIGINT and SIGTERM, once the command has asked for them: the readers stop at the next
/// chunk (or at once, when waiting on a silent stream) and the run ends as at end of input.
public enum StopSignal {
    /// Makes the first SIGINT or SIGTERM a request to stop; a second one ends the process.
    public static func install() { lw_install_stop_handlers() }

    /// The signal that asked to stop, or 0 (`requested` when the program itself asked).
    public static var received: Int32 { lw_stop_signal() }

    /// What `received` is after `request()`.
    public static let requested: Int32 = -1

    /// Stops the run as a signal would (the readers finish, the summary is printed).
    public static func request() { lw_request_stop(requested) }
}

/// Why an input could not be read.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public let name: String
    public let reason: String
    public var description: String { "\(name): \(reason)" }

    public init(name: String, reason: String) { self.name = name; self.reason = reason }
}

/// Bytes already in memory, read as a file would be (a test case's inline log).
public final class MemorySource: ByteSource {
    public let name: String
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8], name: String) { self.bytes = bytes; self.name = name }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}


/// Reads a file descriptor with `read(2)`.
public final class FileDescriptorSource: ByteSource {
    public let name: String
    let fd: Int32
    let ownsDescriptor: Bool
    public let isStream: Bool
    public let size: Int?
    public private(set) var position = 0

    public init(fd: Int32, name: String, ownsDescriptor: Bool) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        var st = stat()
        let type = fstat(fd, &st) == 0 ? st.st_mode & S_IFMT : 0
        isStream = type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
        size = type == S_IFREG ? Int(st.st_size) : nil
        // A larger pipe lets a fast writer hand over more than 64 KiB per read.
        if type == S_IFIFO { _ = fcntl(fd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20)) }
    }

    public func hasData(within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, milliseconds)
        // Readable, hung up or failed: a read will tell. Interrupted by a signal: not yet.
        return r > 0 || (r < 0 && errno != EINTR)
    }

    /// Opens a file for reading.
    public static func open(path: String) throws -> FileDescriptorSource {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError(name: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw InputError(name: path, reason: "is a directory")
        }
        return FileDescriptorSource(fd: fd, name: path, ownsDescriptor: true)
    }

    deinit { if ownsDescriptor { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { position += n; return n }
            if errno == EINTR {
                if StopSignal.received != 0 { return 0 }
                continue
            }
            throw InputError(name: name, reason: String(cString: strerror(errno)))
        }
    }
}

/// An input recognised as gzip by its first bytes, whatever its name — a file, or standard
/// input (`cat x.log.gz | lockwatch`): it is then inflated as it is read (several members, as
/// `cat a.gz b.gz` makes, included; a truncated stream yields the lines before the damage);
/// otherwise its bytes pass as they are.
public final class SniffingSource: ByteSource {
    private let inner: ByteSource
    /// The source once the first bytes have told: the inflater, or nil for plain bytes.
    private var inflater: InflatingSource?
    private var decided = false
    /// Plain bytes read while deciding, handed out first.
    private var pending: [UInt8] = []
    private var pendingOffset = 0

    public init(_ inner: ByteSource) { self.inner = inner }

    public var name: String { inner.name }
    public var isStream: Bool { inner.isStream }
    public var position: Int { inner.position }
    public var size: Int? { inner.size }

    public func hasData(within milliseconds: Int32) -> Bool {
        pendingOffset < pending.count || inflater?.hasPending == true || inner.hasData(within: milliseconds)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if !decided {
            decided = true
            var head = [UInt8](repeating: 0, count: 64 << 10)
            var n = 0
            while n < 2 {
                let got = try head.withUnsafeMutableBytes { try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[n...])) }
                if got == 0 { break }
                n += got
            }
            head.removeSubrange(n...)
            if n >= 2, head[0] == 0x1F, head[1] == 0x8B {
                inflater = try InflatingSource(inner, prefix: head)
            } else {
                pending = head
            }
        }
        if let inflater { return try inflater.read(into: buffer) }
        if pendingOffset < pending.count {
            let n = min(buffer.count, pending.count - pendingOffset)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pendingOffset, byteCount: n) }
            pendingOffset += n
            if pendingOffset == pending.count { pending = []; pendingOffset = 0 }
            return n
        }
        return try inner.read(into: buffer)
    }
}

/// Inflates a gzip stream (several members included) read from another source.
final class InflatingSource {
    private let inner: ByteSource
    private var stream = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var prefix: [UInt8]
    private var ended = false
    private var innerEnded = false

    init(_ inner: ByteSource, prefix: [UInt8]) throws {
        self.inner = inner
        self.prefix = prefix
        input = .allocate(byteCount: 256 << 10, alignment: 16)
        // 15 window bits, +16: a gzip header and trailer.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            throw InputError(name: inner.name, reason: "cannot start gzip decoding")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Whether compressed bytes already read wait to be inflated (a read will not wait).
    var hasPending: Bool { stream.avail_in > 0 || !prefix.isEmpty }

    /// Fills the input buffer; false at the end of the inner source.
    private func refill() throws -> Bool {
        var n = 0
        if !prefix.isEmpty {
            n = min(prefix.count, input.count)
            prefix.withUnsafeBytes { input.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            prefix.removeFirst(n)
        } else if !innerEnded {
            n = try inner.read(into: input)
            if n == 0 { innerEnded = true }
        }
        stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(n)
        return n > 0
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        while stream.avail_out == uInt(min(buffer.count, Int(UInt32.max))) {
            if stream.avail_in == 0 {
                guard try refill() else {
                    if ended { return 0 }
                    throw InputError(name: inner.name, reason: "truncated gzip data")
                }
            }
            var atMemberStart = false
            if ended {
                // Another member follows the one that ended.
                guard inflateReset(&stream) == Z_OK else { throw InputError(name: inner.name, reason: "gzip: cannot continue") }
                ended = false
                atMemberStart = true
            }
            let r = inflate(&stream, Z_NO_FLUSH)
            if r == Z_STREAM_END { ended = true; continue }
            if r == Z_DATA_ERROR, atMemberStart {
                // What follows the last member is not gzip: ignored, as zlib's gzread does for files.
                stream.avail_in = 0
                prefix = []
                innerEnded = true
                ended = true
                while try inner.read(into: input) > 0 {}
                continue
            }
            guard r == Z_OK || r == Z_BUF_ERROR else {
                let message = stream.msg.map { String(cString: $0) } ?? "error \(r)"
                throw InputError(name: inner.name, reason: "gzip: \(message)")
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}

/// Opens an input by name: `-` is stdin; gzip is recognised by its magic bytes, in files and
/// on stdin alike.
public func openInput(_ name: String) throws -> ByteSource {
    if name == "-" { return SniffingSource(FileDescriptorSource(fd: 0, name: "-", ownsDescriptor: false)) }
    return SniffingSource(try FileDescriptorSource.open(path: name))
}
