import CScan
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A field lockwatch understands, whatever a service calls it (docs/semantics.md, "Inputs": the field names).
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

    /// Every key name that means this field in some service's logs, the most specific first:
    /// when a record gives the field under several names, the first of them in this list wins
    /// (zap's `caller`, its source location, does not shadow a `caller_token`).
    public var aliases: [String] {
        switch self {
        case .profile: ["profile_id", "profileId", "profile"]
        case .symbol: ["symbol", "sym", "instrument"]
        case .owner: ["owner_token", "ownerToken", "lock_owner", "lockOwner", "held_by", "holder", "owner"]
        case .caller: ["caller_token", "callerToken", "worker_token", "token", "caller"]
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
}

/// The fields of one record, one optional slot per `Field`: a field's value is that of its
/// most specific name in the record (`Field.aliases`), the first if that name comes twice.
///
/// Values are ranges of `bytes`, which also hold the record's text: decoding a line copies it
/// once and makes no String per field; a String is made only when one is asked for.
public struct FieldSet: Sendable, Equatable {
    /// The bytes the values lie in (for a decoded record, also its line and subject).
    var bytes: [UInt8] = []
    /// Per field: 0 when absent, else `start + 1` in the low and `end` in the high 32 bits.
    var spans = Spans()

    /// One packed range per field, inline: room for `capacity` fields, the most the C key
    /// table numbers (`lw_keytable`), so that a new `Field` case needs nothing here.
    struct Spans: Sendable, Equatable {
        static let capacity = 32
        private var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

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

        /// The slots as memory, for the key=value scan, which fills them in C.
        mutating func withUnsafeMutableSlots<R>(_ body: (UnsafeMutablePointer<UInt64>, Int) -> R) -> R {
            withUnsafeMutableBytes(of: &slots) { body($0.baseAddress!.assumingMemoryBound(to: UInt64.self), Field.allCases.count) }
        }

        static func == (a: Spans, b: Spans) -> Bool {
            withUnsafeBytes(of: a.slots) { x in withUnsafeBytes(of: b.slots) { y in x.elementsEqual(y) } }
        }
    }

    public init() {}

    /// Per field, the rank of the name its value was found under (`Field.aliases`), while a
    /// record's members are read, and whether another value wins over it (`lw_rank_wins`).
    struct Ranks {
        /// Inline, no allocation: `Spans.capacity` fields at most.
        private var ranks = SIMD32<UInt8>(repeating: UInt8(LW_NO_RANK))

        /// Whether a value of `f` under a name of `rank` wins over the value so far (`filled`:
        /// whether the field had one before the record's names were read), and if so notes its rank.
        mutating func take(_ f: Field, rank: UInt8, filled: Bool) -> Bool {
            guard lw_rank_wins(ranks[f.rawValue], filled ? 1 : 0, rank) != 0 else { return false }
            ranks[f.rawValue] = rank
            return true
        }
    }

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

    /// The values over this set's bytes, for reading.
    func withValues<R>(_ body: (FieldValues) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { b in try withUnsafePointer(to: spans) { try body(FieldValues(bytes: b, spans: $0)) } }
    }

    /// Calls `body` with the value's bytes; nil when the field is absent.
    func withValue<R>(_ f: Field, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        try withValues { try $0.withValue(f, body) }
    }

    public static func == (a: FieldSet, b: FieldSet) -> Bool { Field.allCases.allSatisfy { a[$0] == b[$0] } }

    /// Empties the set, keeping the storage for the next record.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        spans = Spans()
    }
}

/// A record's field values over bytes wherever they lie: a decoded record's own copy
/// (`FieldSet`) or the line itself, read in place. The one reading of a value's meaning
/// (true, false, a word) that building a record uses.
struct FieldValues {
    /// The bytes the values lie in.
    let bytes: UnsafeRawBufferPointer
    /// The fields' ranges of `bytes`, where the caller keeps them (read in place, not copied:
    /// building a record reads them a dozen times).
    let spans: UnsafePointer<FieldSet.Spans>

    /// The field's range of `bytes`, or nil.
    @inline(__always) func range(_ f: Field) -> Range<Int>? { spans.pointee[f] }

    /// Calls `body` with the value's bytes; nil when the field is absent.
    func withValue<R>(_ f: Field, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let r = range(f) else { return nil }
        return try body(UnsafeRawBufferPointer(rebasing: bytes[r]))
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

    private static let trueWords: [StaticString] = ["true", "1", "yes"]
    private static let falseWords: [StaticString] = ["false", "0", "no"]

    /// Whether the field's value equals `word` exactly.
    func valueEquals(_ f: Field, _ word: StaticString) -> Bool {
        withValue(f) { $0.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)) } ?? false
    }

    /// Whether a boolean-ish field says true (`true`, `1`, `yes`, in any case).
    func isTrue(_ f: Field) -> Bool { valueIs(f, oneOf: Self.trueWords) }

    /// Whether a boolean-ish field says false (`false`, `0`, `no`, in any case).
    func isFalse(_ f: Field) -> Bool { valueIs(f, oneOf: Self.falseWords) }
}

/// Splits text into `key=value` tokens; a pair counts only as a whole whitespace-separated token.
///
/// Values may be double-quoted with `\"` escapes (logfmt). `result=false_x` yields the value
/// `false_x`, never `false`. Values are found as ranges: nothing is copied.
enum KeyValueScanner {
    /// A table of key names and their fields, in C's form; built once, read-only afterwards,
    /// and kept for the process's life. A plain pointer, so that copying it (every decoder and
    /// every line's closure does) touches no reference count that the workers would share.
    struct Keys: @unchecked Sendable {
        let table: UnsafeMutablePointer<lw_keytable>

        /// Keys earlier in the list win when the same text is given twice.
        init(_ keys: [(String, Field)]) {
            // Every field has its slot in `FieldSet.Spans` and its number in the C table.
            precondition(Field.allCases.count <= FieldSet.Spans.capacity,
                         "\(Field.allCases.count) fields, but FieldSet.Spans and lw_keytable hold \(FieldSet.Spans.capacity)")
            self.init(numbered: keys.map { ($0.0, $0.1.rawValue) })
        }

        /// A table of any names, each with its number (below 256).
        init(numbered keys: [(String, Int)]) {
            table = .allocate(capacity: 1)
            table.initialize(to: lw_keytable())
            for (key, number) in keys {
                var k = key
                _ = k.withUTF8 { lw_keytable_add(table, $0.baseAddress, $0.count, Int32(number)) }
            }
        }

        /// Every alias of every field (docs/semantics.md, "Inputs").
        static let aliases = Keys(Field.allCases.flatMap { f in f.aliases.map { ($0, f) } })

        /// The field of a key given as bytes and the key's rank among the field's names (0 the
        /// most specific); nil for keys lockwatch ignores.
        func rankedLookup(_ key: UnsafeRawBufferPointer) -> (field: Field, rank: Int)? {
            guard let (n, rank) = ranked(key), let f = Field(rawValue: n) else { return nil }
            return (f, rank)
        }

        /// The number of a key given as bytes; nil for a key not in the table.
        func number(_ key: UnsafeRawBufferPointer) -> Int? { ranked(key)?.number }

        private func ranked(_ key: UnsafeRawBufferPointer) -> (number: Int, rank: Int)? {
            guard let base = key.baseAddress else { return nil }
            var rank: Int32 = 0
            let n: Int32
            if key.count >= 8 {
                n = lw_keytable_lookup_ranked(table, base.assumingMemoryBound(to: UInt8.self), key.count, &rank)
            } else {
                // The C lookup reads a short key's first word whole where the page allows: a
                // key that ends its own small allocation (an unescaped JSON key) is copied first.
                var word: UInt64 = 0
                withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: key) }
                n = withUnsafeBytes(of: word) {
                    lw_keytable_lookup_ranked(table, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count, &rank)
                }
            }
            return n < 0 ? nil : (Int(n), Int(rank))
        }
    }

    /// Finds the pairs of `b` whose keys are in `keys`; a field's value is its best-ranked
    /// key's, the first of them (a field already set is kept). Ranges are
    /// offsets into `b` plus `base`. Quoted values with escapes are returned apart, to be
    /// unescaped by the caller.
    ///
    /// A pair is a whitespace-separated token `key=value` whose key is made of key bytes.
    /// Rather than walking every token, the scan (`lw_kv_fill`) jumps from `=` to `=` and checks
    /// the key backwards: it must reach the start of its token (with AVX2, the next `=`, a key's
    /// start and a value's end are each found 32 bytes at a time; without, memchr and byte
    /// loops). A quoted value is skipped whole, so an `=` inside it is never taken for a pair.
    static func fill(_ spans: inout FieldSet.Spans, from b: UnsafeRawBufferPointer, base: Int, keys: Keys,
                     escaped: inout [(Field, Range<Int>)]) {
        guard let start = b.baseAddress, !b.isEmpty else { return }
        withUnsafeTemporaryAllocation(of: lw_kv_escaped.self, capacity: 32) { esc in
            let n = spans.withUnsafeMutableSlots { slots, count in
                lw_kv_fill(keys.table, start.assumingMemoryBound(to: UInt8.self), b.count, base, slots, Int32(count),
                           esc.baseAddress, 32)
            }
            for e in esc.prefix(Int(n)) {
                if let f = Field(rawValue: Int(e.field)) { escaped.append((f, Int(e.start)..<Int(e.end))) }
            }
        }
    }

    /// Whether a byte may be part of a key (`lw_is_key_byte`, the class the scan uses).
    @inline(__always) static func isKeyByte(_ c: UInt8) -> Bool { lw_is_key_byte(c) != 0 }

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
