/// One top-level value of a JSON log object, as far as lockwatch needs it.
public enum JSONScalar: Equatable, Sendable {
    case string(String)
    /// A number, kept as its source text.
    case number(String)
    case bool(Bool)
    case null
    /// An array of small integers: journald's MESSAGE when the message is not valid UTF-8.
    case bytes([UInt8])
    /// A nested object or any other array: skipped, never descended into recursively.
    case nested

    /// The value as log text: strings as they are, numbers and booleans as written.
    var text: String? {
        switch self {
        case .string(let s), .number(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .null, .nested: return nil
        }
    }
}

/// Reads the top level of one JSON object from bytes.
///
/// Log lines are flat in practice; nested values are skipped with an explicit depth counter,
/// so a line nested 200 000 deep costs a scan, not a stack overflow.
public enum JSONObjectReader {
    /// The object's top-level members in order, or nil when the bytes are not one JSON object.
    public static func read(_ b: UnsafeRawBufferPointer) -> [(key: String, value: JSONScalar)]? {
        var i = 0
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var members: [(key: String, value: JSONScalar)] = []
        skipSpace(b, &i)
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return trailingOK(b, i) ? members : nil }
        while true {
            skipSpace(b, &i)
            guard let key = readString(b, &i) else { return nil }
            skipSpace(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace(b, &i)
            guard let value = readValue(b, &i) else { return nil }
            members.append((key, value))
            skipSpace(b, &i)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            return nil
        }
        return trailingOK(b, i) ? members : nil
    }

    private static func trailingOK(_ b: UnsafeRawBufferPointer, _ i0: Int) -> Bool {
        var i = i0
        skipSpace(b, &i)
        return i == b.count
    }

    @inline(__always) private static func skipSpace(_ b: UnsafeRawBufferPointer, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    private static func readValue(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> JSONScalar? {
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "\""):
            return readString(b, &i).map { .string($0) }
        case UInt8(ascii: "t"): return literal(b, &i, "true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal(b, &i, "false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal(b, &i, "null") ? .null : nil
        case UInt8(ascii: "["):
            if let bytes = readByteArray(b, &i) { return .bytes(bytes) }
            return skipNested(b, &i) ? .nested : nil
        case UInt8(ascii: "{"):
            return skipNested(b, &i) ? .nested : nil
        default:
            let start = i
            while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                    || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
            guard i > start else { return nil }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
        }
    }

    private static func literal(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// Reads `[1, 2, 255]` as bytes; leaves `i` unchanged when the array is anything else.
    private static func readByteArray(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> [UInt8]? {
        var j = i + 1
        var out: [UInt8] = []
        skipSpace(b, &j)
        if j < b.count, b[j] == UInt8(ascii: "]") { i = j + 1; return out }
        while j < b.count {
            skipSpace(b, &j)
            var v = 0
            var nd = 0
            while j < b.count, isDigit(b[j]), nd < 4 { v = v * 10 + Int(b[j] &- 48); j += 1; nd += 1 }
            guard nd > 0, v < 256 else { return nil }
            out.append(UInt8(v))
            skipSpace(b, &j)
            guard j < b.count else { return nil }
            if b[j] == UInt8(ascii: ",") { j += 1; continue }
            if b[j] == UInt8(ascii: "]") { i = j + 1; return out }
            return nil
        }
        return nil
    }

    /// Skips a nested object or array of any depth without recursion.
    private static func skipNested(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
        var depth = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                guard readString(b, &i, keep: false) != nil else { return false }
                continue
            }
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
            else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { i += 1; return true }
            }
            i += 1
        }
        return false
    }

    /// Reads a JSON string at `i` (which must be a quote), decoding escapes.
    static func readString(_ b: UnsafeRawBufferPointer, _ i: inout Int, keep: Bool = true) -> String? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var plain = true
        while i < b.count, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") { plain = false; i += 1 }
            i += 1
        }
        guard i < b.count else { return nil }
        let end = i
        i += 1
        guard keep else { return "" }
        let raw = UnsafeRawBufferPointer(rebasing: b[start..<end])
        if plain { return String(decoding: raw, as: UTF8.self) }
        return unescape(raw)
    }

    private static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        var pendingHigh: UInt32? = nil
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\"), i + 1 < raw.count else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= raw.count, let v = hex4(raw, i) else { out.append(e); continue }
                i += 4
                if (0xD800..<0xDC00).contains(v) { pendingHigh = v; continue }
                var scalar = v
                if (0xDC00..<0xE000).contains(v), let high = pendingHigh {
                    scalar = 0x10000 + ((high - 0xD800) << 10) + (v - 0xDC00)
                }
                pendingHigh = nil
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = b[i + k]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}
