// `--alertmanager URL`: posts the alert feed's batches to every Alertmanager of a cluster
// (API v2, `POST /api/v2/alerts`) over HTTP/1.1 on swift-nio, each from a bounded queue with
// retries and backoff, so that a restart of an Alertmanager loses nothing the queue can hold.

import ArgumentParser
import Foundation
import LockwatchCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// An Alertmanager's base address: `http://HOST:PORT[/PREFIX]`.
struct AlertmanagerURL: ExpressibleByArgument, CustomStringConvertible {
    let host: String
    let port: Int
    let prefix: String
    let description: String

    init?(argument: String) {
        guard argument.hasPrefix("http://") else { return nil }
        var rest = Substring(argument.dropFirst("http://".count))
        var prefix = ""
        if let slash = rest.firstIndex(of: "/") {
            prefix = String(rest[slash...])
            rest = rest[..<slash]
        }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var host = String(rest), port = 80
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            host = String(rest[..<colon])
            port = p
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
        self.prefix = prefix
        self.description = argument
    }

    static var defaultValueDescription: String { "http://HOST:PORT" }
}

/// Delivers batches of alerts to several Alertmanagers, each on a thread of its own: a batch is
/// retried with backoff (0.5 s doubling to 30 s) until the Alertmanager takes it; at most
/// `capacity` batches wait per Alertmanager, beyond which the oldest is dropped and counted.
final class AlertmanagerClient: @unchecked Sendable {
    /// One Alertmanager's queue and counts (guarded by `lock`). The batch being sent has left
    /// the queue (`inFlight`), so that what `post` drops is never the batch on the wire.
    private final class Target: @unchecked Sendable {
        let url: AlertmanagerURL
        var queue: [[UInt8]] = []
        var inFlight: [UInt8]?
        var sent = 0, dropped = 0, failures = 0
        var lastError: String?
        var running = true
        /// The metrics' counters, when there are metrics.
        var counters: LockMetrics.DeliveryCounters?
        init(_ url: AlertmanagerURL) { self.url = url }
    }

    let capacity: Int
    private let targets: [Target]
    private let lock = NSCondition()
    private var stopping = false
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let warn: @Sendable (String) -> Void
    private var threads: [Thread] = []

    init(urls: [AlertmanagerURL], capacity: Int = 256, metrics: LockMetrics? = nil, warn: @escaping @Sendable (String) -> Void) {
        self.capacity = max(1, capacity)
        self.targets = urls.map(Target.init)
        self.warn = warn
        for t in targets {
            t.counters = metrics?.alertmanagerCounters(t.url.description)
            let thread = Thread { [self] in self.run(t) }
            thread.name = "lockwatch-am"
            threads.append(thread)
            thread.start()
        }
    }

    /// Queues a batch for every Alertmanager (called on the correlating thread; never waits).
    func post(_ alerts: [AlertFeed.Postable]) {
        let body = AlertFeed.body(alerts)
        lock.lock()
        for t in targets {
            t.queue.append(body)
            if t.queue.count > capacity {
                t.queue.removeFirst()
                t.dropped += 1
                t.counters?.dropped()
            }
        }
        lock.broadcast()
        lock.unlock()
    }

    /// Waits up to `timeout` for the queues to empty, stops the senders (a send under way ends
    /// within its own timeout), and says on stderr what could not be delivered.
    func finish(timeout: TimeInterval = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        while targets.contains(where: { !$0.queue.isEmpty || $0.inFlight != nil }), Date() < deadline {
            _ = lock.wait(until: deadline)
        }
        stopping = true
        lock.broadcast()
        while targets.contains(where: { $0.running }) { lock.wait() }
        for t in targets {
            let left = t.queue.count + (t.inFlight == nil ? 0 : 1)
            t.dropped += left
            t.counters?.dropped(left)
            t.queue.removeAll()
            t.inFlight = nil
        }
        let report = targets.filter { $0.dropped > 0 }.map {
            "--alertmanager \($0.url): \($0.dropped) batches of alerts could not be delivered (\($0.sent) were; last error: \($0.lastError ?? "none"))"
        }
        lock.unlock()
        for r in report { warn(r) }
        try? group.syncShutdownGracefully()
    }

    private func run(_ t: Target) {
        var backoff: TimeInterval = 0.5
        lock.lock()
        defer {
            t.running = false
            lock.broadcast()
            lock.unlock()
        }
        while true {
            while t.queue.isEmpty && t.inFlight == nil && !stopping { lock.wait() }
            if stopping { return }
            if t.inFlight == nil { t.inFlight = t.queue.removeFirst() }
            let body = t.inFlight!
            lock.unlock()
            let result = send(body, to: t.url)
            lock.lock()
            var refused: Int?
            switch result {
            case .success(let status) where (200..<300).contains(status):
                t.inFlight = nil
                t.sent += 1
                t.counters?.sent()
                backoff = 0.5
                lock.broadcast()
                continue
            case .success(let status) where (400..<500).contains(status) && status != 429:
                // Refused as malformed: sending it again will not help.
                t.inFlight = nil
                t.dropped += 1
                t.counters?.dropped()
                t.lastError = "HTTP \(status)"
                refused = status
            case .success(let status):
                t.lastError = "HTTP \(status)"
            case .failure(let error):
                t.lastError = Self.describe(error)
            }
            let message = t.lastError ?? ""
            if let refused {
                lock.broadcast()
                lock.unlock()
                warn("--alertmanager \(t.url): the alerts were refused (HTTP \(refused)) and dropped")
                lock.lock()
                continue
            }
            t.failures += 1
            if t.failures == 1 {
                lock.unlock()
                warn("--alertmanager \(t.url): \(message); retrying with backoff")
                lock.lock()
            }
            // Waits out the backoff (posts and the other senders wake the condition: it is
            // waited on again), unless the run is stopping.
            let retryAt = Date().addingTimeInterval(backoff)
            while !stopping, Date() < retryAt { _ = lock.wait(until: retryAt) }
            backoff = min(backoff * 2, 30)
        }
    }

    /// Why a send failed, in a few words.
    static func describe(_ error: Error) -> String {
        let text = "\(error)"
        if text.contains("Connection refused") { return "connection refused" }
        if text.contains("connectTimeout") || text.contains("timed out") { return "no answer within the timeout" }
        if text.contains("ioOnClosedChannel") { return "the connection closed before an answer" }
        return text
    }

    /// Posts one body; the HTTP status, or why there is none.
    private func send(_ body: [UInt8], to url: AlertmanagerURL) -> Result<Int, Error> {
        let loop = group.next()
        let promise = loop.makePromise(of: Int.self)
        let handler = ResponseStatus(promise)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap { channel.pipeline.addHandler(handler) }
            }
        do {
            let channel = try bootstrap.connect(host: url.host, port: url.port).wait()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(url.host):\(url.port)")
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: "close")
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.prefix + "/api/v2/alerts", headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let timeout = loop.scheduleTask(in: .seconds(5)) { handler.fail(ChannelError.connectTimeout(.seconds(5))) }
            defer { timeout.cancel(); channel.close(promise: nil) }
            return .success(try promise.futureResult.wait())
        } catch {
            handler.fail(error)
            return .failure(error)
        }
    }
}

/// Completes its promise with the response's status once the response has ended, or fails it.
private final class ResponseStatus: ChannelInboundHandler, @unchecked Sendable {
    // Used on its channel's event loop only.
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<Int>
    private var status = 0
    private var done = false

    init(_ promise: EventLoopPromise<Int>) { self.promise = promise }

    func fail(_ error: Error) {
        promise.futureResult.eventLoop.execute { [self] in
            guard !done else { return }
            done = true
            promise.fail(error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): status = Int(h.status.code)
        case .body: break
        case .end:
            guard !done else { return }
            done = true
            promise.succeed(status)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done { done = true; promise.fail(error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; promise.fail(ChannelError.ioOnClosedChannel) }
    }
}
