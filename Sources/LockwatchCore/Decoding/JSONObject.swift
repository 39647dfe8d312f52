import CScan

/// What kind of value a top-level JSON member has, as far as lockwatch needs it.
enum JSONKind: UInt8, Sendable {
    case string, number, bool, null
    /// An array of small integers: journald's MESSAGE when the message is not valid UTF-8.
    case byteArray
    /// A nested object or any other array: skipped, never descended into recursively.
    case nested

    /// Whether a value of this kind is text in a log record (null and nested values are not).
    var hasText: Bool { self != .null && self != .nested }
}

/// One top-level member of a JSON object, as ranges of the object's bytes: reading a line
/// makes no String and copies nothing.
struct JSONMember: Sendable {
    /// The key, inside its quotes.
    var key: Range<Int>
    var keyEscaped: Bool
    var kind: JSONKind
    /// A string's bytes inside its quotes; any other value's bytes as written.
    var value: Range<Int>
    /// Whether a string value has backslash escapes.
    var valueEscaped: Bool
}

/// Reads the top level of one JSON object from bytes: the one definition of the JSON that
/// lockwatch accepts and of a value's text.
///
/// Log lines are flat in practice; nested values are skipped with an explicit depth counter,
/// so a line nested 200 000 deep costs a scan, not a stack overflow.
enum JSONObjectReader {
    /// The object's top-level members in order, in `members` (emptied first); false when the
    /// bytes are not one JSON object.
    static func members(_ b: UnsafeRawBufferPointer, into members: inout [JSONMember]) -> Bool {
        members.removeAll(keepingCapacity: true)
        var i = 0
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skipSpace(b, &i)
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return trailingOK(b, i) }
        while true {
            skipSpace(b, &i)
            guard let (key, keyEscaped) = skipString(b, &i) else { return false }
            skipSpace(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace(b, &i)
            guard let (kind, value, escaped) = skipValue(b, &i) else { return false }
            members.append(JSONMember(key: key, keyEscaped: keyEscaped, kind: kind, value: value, valueEscaped: escaped))
            skipSpace(b, &i)
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            return false
        }
        return trailingOK(b, i)
    }

    /// Calls `body` with the member's key as text: its bytes, unescaped and as valid UTF-8.
    static func withKey<R>(_ m: JSONMember, of b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withText(UnsafeRawBufferPointer(rebasing: b[m.key]), escaped: m.keyEscaped, body)
    }

    /// Calls `body` with the member's value as log text — a string as it reads, a number or
    /// boolean as written, a byte array as UTF-8 text — or returns nil for null and nested
    /// values, which have none.
    static func withValueText<R>(_ m: JSONMember, of b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let raw = UnsafeRawBufferPointer(rebasing: b[m.value])
        switch m.kind {
        case .string: return withText(raw, escaped: m.valueEscaped, body)
        case .number, .bool: return body(raw)
        case .byteArray: return (byteArray(raw) ?? []).withUnsafeBytes { withText($0, escaped: false, body) }
        case .null, .nested: return nil
        }
    }

    /// Appends the member's value as log text (as `withValueText` gives it) to `out`; false,
    /// appending nothing, for null and nested values. A string is decoded straight into `out`.
    static func appendValueText(_ m: JSONMember, of b: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        guard m.kind == .string else { return withValueText(m, of: b) { out.append(contentsOf: $0) } != nil }
        appendText(UnsafeRawBufferPointer(rebasing: b[m.value]), escaped: m.valueEscaped, to: &out)
        return true
    }

    /// A byte array's bytes (`[1, 2, 255]`); nil when the array is anything else.
    static func byteArray(_ raw: UnsafeRawBufferPointer) -> [UInt8]? {
        var i = 0
        return readByteArray(raw, &i, keep: true)
    }

    /// Calls `body` with text bytes as a String would hold them (`appendText`); ASCII without
    /// escapes, the common case, is passed as it lies.
    @inline(__always)
    private static func withText<R>(_ raw: UnsafeRawBufferPointer, escaped: Bool, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if !escaped, isASCII(raw) { return body(raw) }
        var text: [UInt8] = []
        appendText(raw, escaped: escaped, to: &text)
        return text.withUnsafeBytes(body)
    }

    /// Appends a string's bytes as a String would hold them: escapes decoded (`\u` pairs
    /// joined into one scalar), and bytes that are not valid UTF-8 replaced (U+FFFD). The one
    /// definition of a JSON string's text.
    private static func appendText(_ raw: UnsafeRawBufferPointer, escaped: Bool, to out: inout [UInt8]) {
        let start = out.count
        if escaped { unescape(raw, appendingTo: &out) } else { out.append(contentsOf: raw) }
        guard !out.withUnsafeBytes({ isASCII(UnsafeRawBufferPointer(rebasing: $0[start...])) }) else { return }
        let text = String(decoding: out[start...], as: UTF8.self)
        out.removeSubrange(start...)
        out.append(contentsOf: text.utf8)
    }

    @inline(__always) private static func isASCII(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= b.count {
            if b.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < b.count { if b[i] >= 0x80 { return false }; i += 1 }
        return true
    }

    private static func trailingOK(_ b: UnsafeRawBufferPointer, _ i0: Int) -> Bool {
        var i = i0
        skipSpace(b, &i)
        return i == b.count
    }

    @inline(__always) private static func skipSpace(_ b: UnsafeRawBufferPointer, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    private static func skipValue(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> (JSONKind, Range<Int>, Bool)? {
        guard i < b.count else { return nil }
        let start = i
        switch b[i] {
        case UInt8(ascii: "\""):
            return skipString(b, &i).map { (.string, $0.0, $0.1) }
        case UInt8(ascii: "t"): return literal(b, &i, "true") ? (.bool, start..<i, false) : nil
        case UInt8(ascii: "f"): return literal(b, &i, "false") ? (.bool, start..<i, false) : nil
        case UInt8(ascii: "n"): return literal(b, &i, "null") ? (.null, start..<i, false) : nil
        case UInt8(ascii: "["):
            if readByteArray(b, &i, keep: false) != nil { return (.byteArray, start..<i, false) }
            return skipNested(b, &i) ? (.nested, start..<i, false) : nil
        case UInt8(ascii: "{"):
            return skipNested(b, &i) ? (.nested, start..<i, false) : nil
        default:
            while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                    || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
            guard i > start else { return nil }
            return (.number, start..<i, false)
        }
    }

    private static func literal(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// Reads `[1, 2, 255]` at `i`: its bytes (none unless `keep`); leaves `i` unchanged and
    /// returns nil when the array is anything else.
    private static func readByteArray(_ b: UnsafeRawBufferPointer, _ i: inout Int, keep: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        var j = i + 1
        skipSpace(b, &j)
        if j < b.count, b[j] == UInt8(ascii: "]") { i = j + 1; return out }
        while j < b.count {
            skipSpace(b, &j)
            var v = 0
            var nd = 0
            while j < b.count, isDigit(b[j]), nd < 4 { v = v * 10 + Int(b[j] &- 48); j += 1; nd += 1 }
            guard nd > 0, v < 256 else { return nil }
            if keep { out.append(UInt8(v)) }
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
                guard skipString(b, &i) != nil else { return false }
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

    /// Skips a JSON string at `i` (which must be a quote); returns its bytes inside the quotes
    /// and whether it has escapes.
    private static func skipString(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> (Range<Int>, Bool)? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var escaped = false
        while true {
            i = quoteOrBackslash(b, from: i)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "\"") { break }
            escaped = true
            i += 2
        }
        i += 1
        return (start..<(i - 1), escaped)
    }

    /// The first quote or backslash at or after `i` (`lw_quote_or_backslash`, 16 bytes at a
    /// time), or the end.
    @inline(__always)
    private static func quoteOrBackslash(_ b: UnsafeRawBufferPointer, from i: Int) -> Int {
        guard i < b.count, let base = b.baseAddress else { return b.count }
        return i + lw_quote_or_backslash(base.assumingMemoryBound(to: UInt8.self) + i, b.count - i)
    }

    /// Appends a string's bytes with its escapes decoded (`\u` pairs joined into one scalar).
    private static func unescape(_ raw: UnsafeRawBufferPointer, appendingTo out: inout [UInt8]) {
        out.reserveCapacity(out.count + raw.count)
        var i = 0
        var pendingHigh: UInt32? = nil
        while i < raw.count {
            // The run up to the next backslash, in one copy (a string's bytes hold no bare quote).
            let run = quoteOrBackslash(raw, from: i)
            if run > i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<run])); i = run; continue }
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
                out.append(contentsOf: UTF8.encode(u)!)
            default: out.append(e)
            }
        }
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
