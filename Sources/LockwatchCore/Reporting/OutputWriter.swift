// Reporting: sinks that consume alerts and the summary. They only print values.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a sink writes bytes: a file descriptor, or memory (tests, golden files).
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer)
    func flush()
    /// True once the reader went away (EPIPE): the run should stop quietly.
    var isClosed: Bool { get }
}

/// A buffered writer on a file descriptor; a closed pipe marks it closed instead of failing.
public final class FileDescriptorWriter: ByteSink {
    let fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var isClosed = false
    /// Output buffered beyond this is written at once; `Int.max` writes only on `flush()`
    /// (with `--state`, events go out when the state that covers them is saved).
    public var flushThreshold = 64 << 10

    public init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(64 << 10)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { flush() }
    }

    public func flush() {
        guard !isClosed, !buffer.isEmpty else { buffer.removeAll(keepingCapacity: true); return }
        buffer.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    isClosed = true
                    return
                }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Collects output in memory.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    public func flush() {}
    public var isClosed: Bool { false }
    /// The collected output as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    /// Forgets what was collected, keeping the storage (a sink reused run after run).
    public func removeAll() { bytes.removeAll(keepingCapacity: true) }
}

extension ByteSink {
    func write(_ s: String) {
        var copy = s
        copy.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}

/// Consumes what the pipeline decides (the core never prints).
public protocol Sink: AnyObject {
    /// One event, as soon as it is decided.
    func emit(_ alert: Alert)
    /// The end-of-run summary.
    func finish(_ summary: Summary)
    /// Pushes buffered output out (a live pipe calls this after each batch of input).
    func flush()
    /// Whether the output went away.
    var isClosed: Bool { get }
    /// Whether the sink wants `episode` calls (reports do; printers do not).
    var wantsEpisodes: Bool { get }
    /// An episode, once closed, and at the end those still open.
    func episode(_ e: EpisodeRecord)
}

extension Sink {
    public var wantsEpisodes: Bool { false }
    public func episode(_ e: EpisodeRecord) {}
}

/// Hands everything to several sinks: the printer and the reports.
public final class TeeSink: Sink {
    public let sinks: [Sink]
    public init(_ sinks: [Sink]) { self.sinks = sinks }
    public func emit(_ alert: Alert) { for s in sinks { s.emit(alert) } }
    public func finish(_ summary: Summary) { for s in sinks { s.finish(summary) } }
    public func flush() { for s in sinks { s.flush() } }
    public var isClosed: Bool { sinks.first?.isClosed ?? true }
    public var wantsEpisodes: Bool { sinks.contains { $0.wantsEpisodes } }
    public func episode(_ e: EpisodeRecord) { for s in sinks where s.wantsEpisodes { s.episode(e) } }
}

/// Why an output file (metrics, state, report) could not be written.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes a whole file atomically: to a temporary file beside it, then renamed over it, so
/// that a reader (node_exporter's textfile collector) never sees half of it.
func writeAtomically(_ bytes: [UInt8], to path: String, what: String = "metrics",
                     beforeRename: () -> Void = {}) throws {
    let temporary = "\(path).tmp.\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw OutputError(path: path, reason: "cannot write \(what): \(String(cString: strerror(errno)))") }
    var ok = true
    bytes.withUnsafeBytes { b in
        var offset = 0
        while offset < b.count {
            let n = Glibc.write(fd, b.baseAddress! + offset, b.count - offset)
            if n < 0 { if errno == EINTR { continue }; ok = false; return }
            offset += n
        }
    }
    close(fd)
    if ok { beforeRename() }
    guard ok, rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw OutputError(path: path, reason: "cannot write \(what): \(reason)")
    }
}
