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

    /// The aliases as bytes, by length, so that a key is looked up without making a String.
    private static let byLength: [[(bytes: [UInt8], field: Field)]] = {
        var table = Array(repeating: [(bytes: [UInt8], field: Field)](), count: 33)
        for f in Field.allCases { for a in f.aliases where a.utf8.count < 33 { table[a.utf8.count].append((Array(a.utf8), f)) } }
        return table
    }()

    /// Looks up a key given as bytes; nil for keys lockwatch ignores.
    static func lookup(_ key: UnsafeRawBufferPointer) -> Field? {
        guard key.count >= 1, key.count < byLength.count else { return nil }
        for entry in byLength[key.count] where entry.bytes.withUnsafeBytes({ $0.elementsEqual(key) }) {
            return entry.field
        }
        return nil
    }
}

/// The fields of one record, one optional slot per `Field`. The first value seen wins.
///
/// The slots are stored inline, so that decoding a line allocates nothing for the set itself.
public struct FieldSet: Sendable, Equatable {
    private typealias Slots = (String?, String?, String?, String?, String?, String?, String?, String?, String?, String?,
                               String?, String?, String?, String?, String?, String?, String?, String?, String?, String?)
    private var slots: Slots = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
                                nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)

    public init() {}

    public subscript(_ f: Field) -> String? {
        get {
            withUnsafePointer(to: slots) { $0.withMemoryRebound(to: String?.self, capacity: 20) { $0[f.rawValue] } }
        }
        set {
            withUnsafeMutablePointer(to: &slots) {
                $0.withMemoryRebound(to: String?.self, capacity: 20) { $0[f.rawValue] = newValue }
            }
        }
    }

    public static func == (a: FieldSet, b: FieldSet) -> Bool { Field.allCases.allSatisfy { a[$0] == b[$0] } }

    /// Sets the field only if it has no value yet.
    mutating func offer(_ f: Field, _ v: String) {
        if self[f] == nil { self[f] = v }
    }

    /// Whether a boolean-ish field says true (`true`, `1`, `yes`).
    public func isTrue(_ f: Field) -> Bool {
        guard let v = self[f]?.lowercased() else { return false }
        return v == "true" || v == "1" || v == "yes"
    }

    /// Whether a boolean-ish field says false (`false`, `0`, `no`).
    public func isFalse(_ f: Field) -> Bool {
        guard let v = self[f]?.lowercased() else { return false }
        return v == "false" || v == "0" || v == "no"
    }

}

/// Splits text into `key=value` tokens; a pair counts only as a whole whitespace-separated token.
///
/// Values may be double-quoted with `\"` escapes (logfmt). `result=false_x` yields the value
/// `false_x`, never `false`. Only the values of keys lockwatch knows become Strings.
enum KeyValueScanner {
    /// Fills `fields` from the pairs of `b` whose keys are known aliases; the first value wins.
    static func fill(_ fields: inout FieldSet, from b: UnsafeRawBufferPointer) {
        scan(b) { key, value in
            guard let f = Field.lookup(key), fields[f] == nil else { return }
            fields[f] = value()
        }
    }

    /// Calls `visit` with each key and a function that makes its value.
    static func scan(_ b: UnsafeRawBufferPointer, _ visit: (UnsafeRawBufferPointer, () -> String) -> Void) {
        var i = 0
        let n = b.count
        while i < n {
            while i < n, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let keyStart = i
            while i < n, isKeyByte(b[i]) { i += 1 }
            if i < n, i > keyStart, b[i] == UInt8(ascii: "=") {
                let key = UnsafeRawBufferPointer(rebasing: b[keyStart..<i])
                i += 1
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
                    if i == n || b[i] == 0x20 || b[i] == 0x09 {
                        visit(key) { quotedValue(UnsafeRawBufferPointer(rebasing: b[vStart..<vEnd]), escaped) }
                    }
                } else {
                    let vStart = i
                    while i < n, b[i] != 0x20, b[i] != 0x09 { i += 1 }
                    let vEnd = i
                    visit(key) { String(decoding: UnsafeRawBufferPointer(rebasing: b[vStart..<vEnd]), as: UTF8.self) }
                }
            }
            while i < n, b[i] != 0x20, b[i] != 0x09 { i += 1 }
        }
    }

    @inline(__always) static func isKeyByte(_ c: UInt8) -> Bool {
        (c | 0x20) &- 97 < 26 || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "@")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
    }

    private static func quotedValue(_ raw: UnsafeRawBufferPointer, _ escaped: Bool) -> String {
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 1 < raw.count { out.append(raw[i + 1]); i += 2 } else { out.append(raw[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
