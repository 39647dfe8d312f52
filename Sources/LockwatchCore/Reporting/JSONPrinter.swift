import Dispatch

/// Builds one JSON object as UTF-8 bytes, with keys in the order they are added.
final class JSONObjectText: ByteBuffer {
    private var first = true
    /// The date of the last time written.
    private var day = RFC3339Day()

    init() {
        super.init()
        append(UInt8(ascii: "{"))
    }

    /// Starts a new object in the same storage (the printer reuses one per line).
    func reset() {
        removeAll()
        append(UInt8(ascii: "{"))
        first = true
    }

    /// Closes the object in place.
    func close(newline: Bool) {
        append(UInt8(ascii: "}"))
        if newline { append(0x0A) }
    }

    func key(_ k: StaticString) {
        if !first { append(UInt8(ascii: ",")) }
        first = false
        append(UInt8(ascii: "\""))
        append(k)
        append("\":")
    }

    /// A value known to need no escaping.
    func literal(_ k: StaticString, _ v: StaticString) {
        key(k)
        append(UInt8(ascii: "\""))
        append(v)
        append(UInt8(ascii: "\""))
    }

    /// A name, quoted once per printer and then copied.
    func name(_ k: StaticString, _ v: Name?, _ names: EncodedNames) {
        key(k)
        guard let v else { append("null"); return }
        names.append(v, to: self)
    }

    func string(_ k: StaticString, _ v: String?) {
        key(k)
        guard let v else { append("null"); return }
        JSONObjectText.appendQuoted(v, to: self)
    }

    func time(_ k: StaticString, _ v: EventTime?) {
        key(k)
        guard let v else { append("null"); return }
        append(UInt8(ascii: "\""))
        v.appendRFC3339(to: self, day: &day)
        append(UInt8(ascii: "\""))
    }

    func int(_ k: StaticString, _ v: Int?) {
        key(k)
        guard let v else { append("null"); return }
        if v < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(v.magnitude), to: self)
    }
    func bool(_ k: StaticString, _ v: Bool?) {
        key(k)
        if let v { append(v ? "true" : "false") } else { append("null") }
    }
    func seconds(_ k: StaticString, _ v: TimeSpan) { key(k); TimeSpan.appendSeconds(v.micros, to: self) }
    func strings(_ k: StaticString, _ v: [String]) {
        key(k)
        append(UInt8(ascii: "["))
        for (i, s) in v.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            JSONObjectText.appendQuoted(s, to: self)
        }
        append(UInt8(ascii: "]"))
    }
    func raw(_ k: StaticString, _ json: [UInt8]) { key(k); append(json) }

    /// An array of objects, each written by `write` into an object of its own, then copied in.
    func objects<S: Sequence>(_ k: StaticString, _ items: S, _ write: (S.Element, JSONObjectText) -> Void) {
        key(k)
        append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            let x = JSONObjectText()
            write(item, x)
            x.close(newline: false)
            x.withUnsafeBytes { append($0) }
        }
        append(UInt8(ascii: "]"))
    }

    /// The object, closed, with a newline when it is a line of NDJSON.
    func closed(newline: Bool = false) -> [UInt8] {
        var out = bytes
        out.append(UInt8(ascii: "}"))
        if newline { out.append(0x0A) }
        return out
    }

    /// Joins objects into a JSON array.
    static func array(_ items: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Appends `s` as a JSON string; control characters (C0, DEL, C1) are escaped, so none
    /// reach a terminal raw. Strings with nothing to escape are copied whole.
    static func appendQuoted(_ s: String, to out: ByteBuffer) {
        var s = s
        s.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0), to: out, valid: true) }
    }

    /// `appendQuoted` of the text whose UTF-8 bytes these are (`valid`: known to be UTF-8;
    /// otherwise invalid sequences are replaced, as `String(decoding:as:)` does).
    static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: ByteBuffer, valid: Bool = false) {
        out.append(UInt8(ascii: "\""))
        // Copied as they are: text with nothing to escape (no C0 control, quote, backslash or
        // DEL, and no 0xC2, which starts every C1 control), and either known to be UTF-8 or ASCII.
        let plain = bytes.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 != 0x7F && $0 != 0xC2 && (valid || $0 < 0x80) }
        if plain {
            out.append(bytes)
        } else {
            let s = String(decoding: bytes, as: UTF8.self)
            for u in s.unicodeScalars {
                switch u {
                case "\"": out.append(#"\""#)
                case "\\": out.append(#"\\"#)
                case "\n": out.append(#"\n"#)
                case "\r": out.append(#"\r"#)
                case "\t": out.append(#"\t"#)
                case _ where u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value):
                    let hex = String(u.value, radix: 16)
                    out.append(string: "\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: out.append(string: String(u))
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// The encoded bytes of recent names (JSON-quoted, or escaped for a terminal): a name is
/// looked up and encoded once, then copied. Direct-mapped by id, the bytes in one arena that
/// starts over when it is full, so that it stays the same size however many names there are.
/// A class: its arena is one buffer, which copies of a struct would share.
final class EncodedNames {
    private static let size = 1 << 14
    private static let arenaLimit = 1 << 20
    /// Per slot: the id held, and where its bytes are in the arena (start, length).
    private var ids = [UInt32](repeating: .max, count: size)
    private var places = [(start: Int32, count: Int32)](repeating: (0, 0), count: size)
    private let arena = ByteBuffer(capacity: 64 << 10)
    /// Encodes a name's bytes (as `NameTable` keeps them: UTF-8 or not).
    private let encode: (UnsafeRawBufferPointer, ByteBuffer) -> Void

    init(_ encode: @escaping (UnsafeRawBufferPointer, ByteBuffer) -> Void) { self.encode = encode }

    /// Names as JSON strings, quotes included.
    static var json: EncodedNames { EncodedNames { bytes, out in JSONObjectText.appendQuoted(bytes, to: out) } }

    func append(_ n: Name, to out: ByteBuffer) {
        let i = Int(n.id) & (Self.size - 1)
        if ids[i] != n.id {
            if arena.count > Self.arenaLimit {
                arena.removeAll()
                for k in ids.indices { ids[k] = .max }
            }
            let start = arena.count
            encode(NameTable.shared.bytes(of: n), arena)
            ids[i] = n.id
            places[i] = (Int32(start), Int32(arena.count - start))
        }
        let (start, count) = places[i]
        out.append(arena.start + Int(start), count: Int(count))
    }
}

/// The pieces of the summary line that threads formatted, by lane: each lane sets only its
/// own, and the writer takes them after all lanes are done.
private final class Pieces: @unchecked Sendable {
    // Unsafe storage: lanes write distinct elements at once, which an array's exclusive
    // access would not allow.
    private let bytes: UnsafeMutableBufferPointer<[UInt8]>
    init(count: Int) {
        bytes = .allocate(capacity: count)
        bytes.initialize(repeating: [])
    }
    deinit {
        _ = bytes.deinitialize()
        bytes.deallocate()
    }
    func set(_ k: Int, _ b: [UInt8]) { bytes[k] = b }
    func take(_ k: Int) -> [UInt8] {
        defer { bytes[k] = [] }
        return bytes[k]
    }
}

/// Writes NDJSON: one object per event, then one `summary` object (docs/semantics.md, "Output").
public final class JSONPrinter: Sink {
    let out: ByteSink
    private var scratch = JSONObjectText()
    private let names = EncodedNames.json
    /// Threads that format the summary's profiles (`-j`): the input has ended by then, and the
    /// summary of tens of thousands of keys is the end of the run's longest wait.
    let lanes: Int

    public init(out: ByteSink, lanes: Int = 1) {
        self.out = out
        self.lanes = max(1, lanes)
    }

    public var isClosed: Bool { out.isClosed }
    public func flush() { out.flush() }

    public func emit(_ alert: Alert) {
        scratch.reset()
        JSONPrinter.write(alert, into: scratch, names: names)
        scratch.withUnsafeBytes { out.write($0) }
    }

    /// The NDJSON line of one event, newline included.
    public static func line(_ alert: Alert) -> [UInt8] {
        let o = JSONObjectText()
        let names = EncodedNames.json
        write(alert, into: o, names: names)
        return o.bytes
    }

    private static func write(_ alert: Alert, into o: JSONObjectText, names: EncodedNames) {
        o.literal("type", alert.type)
        o.time("at", alert.at)
        switch alert {
        case let .contentionStarted(_, key, owner, caller, host):
            keyFields(o, key, names)
            o.name("owner", owner, names); o.name("caller", caller, names); o.name("host", host, names)
        case let .escalation(e):
            o.string("reason", e.reason.rawValue)
            if let key = e.key { keyFields(o, key, names) } else { o.strings("profiles", e.profiles) }
            o.time("since", e.since)
            o.int("failures", e.failures)
            o.strings("owners", e.owners)
            o.strings("advice", runbookAdvice)
        case let .ownerStuck(_, key, owner, held, _):
            keyFields(o, key, names)
            o.name("owner", owner, names)
            o.seconds("held_s", held)
        case let .recovered(_, key, since, duration, failures, escalated):
            keyFields(o, key, names)
            o.time("since", since)
            o.seconds("duration_s", duration)
            o.int("failures", failures)
            o.bool("escalated", escalated)
        case let .loopUnhealthy(_, host, loop):
            o.name("host", host, names)
            o.string("loop", loop.rawValue)
        }
        o.close(newline: true)
    }

    private static func keyFields(_ o: JSONObjectText, _ key: LockKey, _ names: EncodedNames) {
        o.name("profile_id", key.profileName, names)
        o.name("symbol", key.symbolName == Name.empty ? nil : key.symbolName, names)
    }

    public func finish(_ s: Summary) {
        JSONPrinter.writeSummary(s, lanes: lanes) { bytes in bytes.withUnsafeBytes { out.write($0) } }
        out.flush()
    }

    /// The NDJSON line of the summary, newline included, its profiles formatted by `lanes`
    /// threads.
    public static func summaryLine(_ s: Summary, lanes: Int = 1) -> [UInt8] {
        var line: [UInt8] = []
        writeSummary(s, lanes: lanes) { line.append(contentsOf: $0) }
        return line
    }

    /// Profiles a thread formats at a time.
    static let profilesPerPiece = 512

    /// Hands on the summary line in pieces of `profilesPerPiece` profiles, in order: with tens
    /// of thousands of profiles the line is tens of megabytes, and is never held whole. `lanes`
    /// threads format a piece each at a time; the bytes are the same however many.
    static func writeSummary(_ s: Summary, lanes: Int = 1, _ write: ([UInt8]) -> Void) {
        let o = JSONObjectText()
        o.string("type", "summary")
        o.time("at", s.lastAt)
        o.int("lines", s.counts.lines)
        o.int("matched", s.counts.matched)
        o.int("unparsed", s.counts.unparsed)
        o.int("evicted_keys", s.counts.evictedKeys)
        o.int("duplicates", s.counts.duplicates)
        o.time("first_at", s.firstAt)
        o.time("last_at", s.lastAt)
        o.int("escalations", s.escalations)
        o.int("exit", Int(s.exit))
        o.raw("profiles", [UInt8(ascii: "[")])
        write(o.bytes)
        let pieces = (s.profiles.count + profilesPerPiece - 1) / profilesPerPiece
        let round = max(1, lanes)
        let formatted = Pieces(count: min(round, pieces))
        for first in stride(from: 0, to: pieces, by: round) {
            let n = min(round, pieces - first)
            let piece: @Sendable (Int) -> Void = { k in
                let at = (first + k) * profilesPerPiece
                let o = ByteBuffer(capacity: 1 << 16)
                for i in at..<min(at + profilesPerPiece, s.profiles.count) {
                    if i > 0 { o.append(UInt8(ascii: ",")) }
                    profile(s.profiles[i], into: o)
                }
                formatted.set(k, o.bytes)
            }
            if n == 1 { piece(0) } else { DispatchQueue.concurrentPerform(iterations: n, execute: piece) }
            for k in 0..<n { write(formatted.take(k)) }
        }
        var rest: [UInt8] = [UInt8(ascii: "]"), UInt8(ascii: ",")]
        rest.append(contentsOf: #""hosts":"#.utf8)
        rest.append(contentsOf: JSONObjectText.array(s.hosts.map(host)))
        rest.append(contentsOf: "}\n".utf8)
        write(rest)
    }

    /// A profile of the summary as JSON, into `out`. Its holders are quoted from their names'
    /// bytes as they come: each appears in few keys, so a cache of encoded names would only
    /// copy them twice.
    private static func profile(_ p: Summary.Profile, into out: ByteBuffer) {
        let o = JSONObjectText()
        o.string("profile_id", p.profileID)
        o.int("failures", p.failures)
        o.int("skipped_signals", p.skippedSignals)
        o.int("episodes", p.episodes)
        o.bool("escalated", p.escalated)
        o.objects("symbols", p.symbols) { s, x in
            x.string("symbol", s.symbol.isEmpty ? nil : s.symbol)
            x.int("failures", s.failures)
            x.int("skipped_signals", s.skippedSignals)
            x.int("episodes", s.episodes)
            x.int("escalations", s.escalations)
            x.seconds("max_contention_s", s.maxContention)
            x.objects("owners", s.owners) { w, y in
                y.key("owner")
                JSONObjectText.appendQuoted(NameTable.shared.bytes(of: w.name), to: y)
                y.int("failures", w.failures)
                y.bool("self_held", w.selfHeld)
            }
            x.string("state", s.state.rawValue)
        }
        o.close(newline: false)
        o.withUnsafeBytes { out.append($0) }
    }

    private static func host(_ h: Summary.Host) -> [UInt8] {
        let o = JSONObjectText()
        o.string("host", h.host)
        o.int("lock_contention_count", h.health.lockContentionCount)
        o.bool("trading_loop_healthy", h.health.tradingLoopHealthy)
        o.bool("reconciliation_loop_healthy", h.health.reconciliationLoopHealthy)
        return o.closed()
    }
}
