#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A field lockwatch understands, whatever a service calls it (SPEC section 1's alias table).
public enum Field: Int, CaseIterable, Sendable {
    case profile, symbol, owner, caller, expires, latencyMs, latencySeconds, host, time, message
    case fn, result, acquired, ok, action, signalSkipped, skipped
    case lockContentionCount, tradingLoopHealthy, reconciliationLoopHealthy

    /// The canonical name, used for rule groups and in `explain`.
    public var name: String {
        switch self {
        case .profile: "profile"
        case .symbol: "symbol"
        case .owner: "owner"
        case .caller: "caller"
        case .expires: "expires"
        case .latencyMs: "latency_ms"
        case .latencySeconds: "latency_s"
        case .host: "host"
        case .time: "time"
        case .message: "message"
        case .fn: "fn"
        case .result: "result"
        case .acquired: "acquired"
        case .ok: "ok"
        case .action: "action"
        case .signalSkipped: "signal_skipped"
        case .skipped: "skipped"
        case .lockContentionCount: "lockContentionCount"
        case .tradingLoopHealthy: "tradingLoopHealthy"
        case .reconciliationLoopHealthy: "reconciliationLoopHealthy"
        }
    }

    /// Every key name that means this field in some service's logs.
    public var aliases: [String] {
        switch self {
        case .profile: ["profile_id", "profileId", "profile"]
        case .symbol: ["symbol", "sym", "instrument"]
        case .owner: ["owner_token", "ownerToken", "owner", "holder", "lock_owner", "lockOwner", "held_by"]
        case .caller: ["caller_token", "callerToken", "caller", "token", "worker_token"]
        case .expires: ["expires_at", "expiresAt", "lock_expires_at", "lockExpiresAt", "locked_until", "lockedUntil"]
        case .latencyMs: ["latency_ms", "latencyMs", "duration_ms", "elapsed_ms"]
        case .latencySeconds: ["latency_s", "latency_seconds"]
        case .host: ["_HOSTNAME", "hostname", "host", "worker", "worker_id"]
        case .time: ["ts", "time", "timestamp", "@timestamp", "t"]
        case .message: ["msg", "message", "event", "MESSAGE", "log"]
        case .fn: ["fn"]
        case .result: ["result"]
        case .acquired: ["acquired"]
        case .ok: ["ok"]
        case .action: ["action"]
        case .signalSkipped: ["signal_skipped"]
        case .skipped: ["skipped"]
        case .lockContentionCount: ["lockContentionCount"]
        case .tradingLoopHealthy: ["tradingLoopHealthy"]
        case .reconciliationLoopHealthy: ["reconciliationLoopHealthy"]
        }
    }

    /// A field from a rule's named group (`profile`, `latency_ms`, …) or any alias.
    public init?(groupName: String) {
        if let f = Field.allCases.first(where: { $0.name == groupName }) { self = f; return }
        guard let f = Field.byAlias[groupName] else { return nil }
        self = f
    }

    static let byAlias: [String: Field] = {
        var table: [String: Field] = [:]
        for f in Field.allCases { for a in f.aliases { table[a] = f } }
        return table
    }()

    /// The aliases by length, each with its first eight bytes as one word, so that a key is
    /// looked up from its bytes with a word compare (and a memcmp for longer aliases).
    private static let byLength: [[(head: UInt64, bytes: [UInt8], field: Field)]] = {
        var table = Array(repeating: [(head: UInt64, bytes: [UInt8], field: Field)](), count: 33)
        for f in Field.allCases {
            for a in f.aliases where a.utf8.count < 33 {
                let bytes = Array(a.utf8)
                table[bytes.count].append((bytes.withUnsafeBytes { head($0) }, bytes, f))
            }
        }
        return table
    }()

    /// The first (up to) eight bytes of a key, little-endian, zero-padded.
    @inline(__always) private static func head(_ b: UnsafeRawBufferPointer) -> UInt64 {
        if b.count >= 8 { return b.loadUnaligned(as: UInt64.self) }
        var v: UInt64 = 0
        for i in 0..<b.count { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        return v
    }

    /// Looks up a key given as bytes; nil for keys lockwatch ignores.
    static func lookup(_ key: UnsafeRawBufferPointer) -> Field? {
        guard key.count >= 1, key.count < 33 else { return nil }
        let h = head(key)
        for entry in byLength[key.count] where entry.head == h {
            if key.count <= 8 { return entry.field }
            let same = entry.bytes.withUnsafeBytes { memcmp($0.baseAddress! + 8, key.baseAddress! + 8, key.count - 8) == 0 }
            if same { return entry.field }
        }
        return nil
    }
}

/// The fields of one record, one optional slot per `Field`. The first value seen wins.
///
/// Values are ranges of `bytes`, which also hold the record's text: decoding a line copies it
/// once and makes no String per field; a String is made only when one is asked for.
public struct FieldSet: Sendable, Equatable {
    /// The bytes the values lie in (for a decoded record, also its line and subject).
    var bytes: [UInt8] = []
    /// Per field: 0 when absent, else `start + 1` in the low and `end` in the high 32 bits.
    var spans = Spans()

    /// One packed range per field, inline.
    struct Spans: Sendable, Equatable {
        private var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        subscript(_ f: Field) -> Range<Int>? {
            get {
                let v = withUnsafeBytes(of: slots) { $0.load(fromByteOffset: f.rawValue * 8, as: UInt64.self) }
                guard v != 0 else { return nil }
                return Int(truncatingIfNeeded: (v & 0xFFFF_FFFF) - 1)..<Int(truncatingIfNeeded: v >> 32)
            }
            set {
                let v = newValue.map { UInt64($0.lowerBound + 1) | UInt64($0.upperBound) << 32 } ?? 0
                withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: v, toByteOffset: f.rawValue * 8, as: UInt64.self) }
            }
        }

        static func == (a: Spans, b: Spans) -> Bool {
            withUnsafeBytes(of: a.slots) { x in withUnsafeBytes(of: b.slots) { y in x.elementsEqual(y) } }
        }
    }

    public init() {}

    /// The value as a String (tests, `explain`, output of texts).
    public subscript(_ f: Field) -> String? {
        get { spans[f].map { String(decoding: bytes[$0], as: UTF8.self) } }
        set {
            guard let newValue else { spans[f] = nil; return }
            let start = bytes.count
            bytes.append(contentsOf: newValue.utf8)
            spans[f] = start..<bytes.count
        }
    }

    /// Whether the field has a value.
    func has(_ f: Field) -> Bool { spans[f] != nil }

    /// Calls `body` with the value's bytes; nil when the field is absent.
    func withValue<R>(_ f: Field, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let r = spans[f] else { return nil }
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    /// Whether the field's value is one of `words` (lowercase ASCII), in any case.
    private func valueIs(_ f: Field, oneOf words: [StaticString]) -> Bool {
        withValue(f) { v in
            words.contains { w in
                w.utf8CodeUnitCount == v.count
                    && zip(UnsafeBufferPointer(start: w.utf8Start, count: w.utf8CodeUnitCount), v).allSatisfy { $0 == ($1 &- 65 < 26 ? $1 | 0x20 : $1) }
            }
        } ?? false
    }

    /// Whether the field's value equals `word` exactly.
    func valueEquals(_ f: Field, _ word: StaticString) -> Bool {
        withValue(f) { $0.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)) } ?? false
    }

    public static func == (a: FieldSet, b: FieldSet) -> Bool { Field.allCases.allSatisfy { a[$0] == b[$0] } }

    /// Whether a boolean-ish field says true (`true`, `1`, `yes`).
    public func isTrue(_ f: Field) -> Bool { valueIs(f, oneOf: ["true", "1", "yes"]) }

    /// Whether a boolean-ish field says false (`false`, `0`, `no`).
    public func isFalse(_ f: Field) -> Bool { valueIs(f, oneOf: ["false", "0", "no"]) }

    /// Empties the set, keeping the storage for the next record.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        spans = Spans()
    }
}

/// Splits text into `key=value` tokens; a pair counts only as a whole whitespace-separated token.
///
/// Values may be double-quoted with `\"` escapes (logfmt). `result=false_x` yields the value
/// `false_x`, never `false`. Values are found as ranges: nothing is copied.
enum KeyValueScanner {
    /// Finds the pairs of `b` whose keys are known aliases; the first value wins. Ranges are
    /// offsets into `b` plus `base`. Quoted values with escapes are returned apart, to be
    /// unescaped by the caller.
    static func fill(_ spans: inout FieldSet.Spans, from b: UnsafeRawBufferPointer, base: Int,
                     escaped: inout [(Field, Range<Int>)]) {
        scan(b) { key, value, isEscaped in
            guard let f = Field.lookup(key), spans[f] == nil else { return }
            let r = (value.lowerBound + base)..<(value.upperBound + base)
            if isEscaped {
                if !escaped.contains(where: { $0.0 == f }) { escaped.append((f, r)) }
            } else {
                spans[f] = r
            }
        }
    }

    /// Calls `visit` with each key, the range of its value in `b` (inside the quotes for a
    /// quoted value), and whether that value has backslash escapes.
    ///
    /// A pair is a whitespace-separated token `key=value` whose key is made of key bytes.
    /// Rather than walking every token, the scan jumps from `=` to `=` (memchr) and checks
    /// the key backwards: it must reach the start of its token. A quoted value is skipped
    /// whole, so an `=` inside it is never taken for a pair.
    static func scan(_ b: UnsafeRawBufferPointer, _ visit: (UnsafeRawBufferPointer, Range<Int>, Bool) -> Void) {
        guard let base = b.baseAddress, !b.isEmpty else { return }
        let n = b.count
        var from = 0
        while from < n, let hit = memchr(base + from, Int32(UInt8(ascii: "=")), n - from) {
            let eq = UnsafeRawPointer(hit) - base
            var keyStart = eq
            while keyStart > 0, isKeyByte(b[keyStart - 1]) { keyStart -= 1 }
            from = eq + 1
            guard keyStart < eq, keyStart == 0 || isSpace(b[keyStart - 1]) else { continue }
            let key = UnsafeRawBufferPointer(rebasing: b[keyStart..<eq])
            var i = eq + 1
            if i < n, b[i] == UInt8(ascii: "\"") {
                i += 1
                let vStart = i
                var escaped = false
                while i < n, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                    i += 1
                }
                let vEnd = min(i, n)
                i = min(i + 1, n)
                if i == n || isSpace(b[i]) { visit(key, vStart..<vEnd, escaped) }
            } else {
                let vStart = i
                while i < n, !isSpace(b[i]) { i += 1 }
                visit(key, vStart..<i, false)
            }
            from = i
        }
    }

    @inline(__always) private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    @inline(__always) static func isKeyByte(_ c: UInt8) -> Bool {
        (c | 0x20) &- 97 < 26 || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "@")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
    }

    /// A quoted value without its backslash escapes.
    static func unescaped(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            if raw[i] == UInt8(ascii: "\\"), i + 1 < raw.endIndex { out.append(raw[i + 1]); i += 2 } else { out.append(raw[i]); i += 1 }
        }
        return out
    }
}
