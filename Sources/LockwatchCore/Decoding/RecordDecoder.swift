// Decoding: one line of bytes → one LogRecord, in two layers (envelope, then app record).

import CScan

/// Who wrote a line and when it was received (docs/semantics.md, "Inputs").
public enum Envelope: String, CaseIterable, Sendable {
    case journaldJSON = "journald-json"
    case shortISO = "short-iso"
    case short = "short"
    case shortUnix = "short-unix"
    case cri = "cri"
    case docker = "docker"
    case none = "plain"
}

/// What the worker logged inside the envelope.
public enum AppShape: String, Sendable {
    case plain, logfmt, json
}

/// Where a record's event time came from.
public enum TimeSource: String, Sendable {
    case app, envelope, readClock = "read-clock"
}

/// `--input-format`: detect per line, or force one envelope.
public enum InputFormat: Sendable, Equatable {
    case auto
    case forced(Envelope)

    /// Parses `auto` or an envelope name (`journald-json`, `short-iso`, `short`, `short-unix`,
    /// `cri`, `docker`, `plain`), plus journalctl's own names (`json`, `cat`, `short-precise`…).
    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "json": self = .forced(.journaldJSON)
        case "cat", "none": self = .forced(.none)
        case "short-iso-precise": self = .forced(.shortISO)
        case "short-precise", "syslog": self = .forced(.short)
        default:
            guard let e = Envelope(rawValue: text) else { return nil }
            self = .forced(e)
        }
    }
}

/// One decoded log line: its event time, host and fields, and the text rules match against.
///
/// Self-contained: `fields.bytes` holds a copy of the line (and, for JSON records, the text
/// built from it), and the subject, host and fields are ranges of those bytes (the decoder's
/// scratch, `members`, aside).
public struct LogRecord: Sendable {
    public var envelope: Envelope = .none
    public var shape: AppShape = .plain
    /// The event time: the app record's own, else the envelope's; nil when the line has none.
    public var time: EventTime?
    public var timeSource: TimeSource?
    /// The app record's fields, by alias, and the bytes of the record.
    public var fields = FieldSet()
    /// The text the rules run on, in `fields.bytes`: the app line, or for JSON records the
    /// message followed by every top-level member as `key=value`.
    var subject: Range<Int> = 0..<0
    /// The host column or field of the envelope, in `fields.bytes`.
    var envelopeHostRange: Range<Int>?
    /// journald's `__CURSOR`, kept for resuming a pipe, in `fields.bytes`.
    var cursorRange: Range<Int>?
    /// When the event time is a syslog timestamp whose year was not given: the stamp, so that
    /// the year can be inferred in input order (`SyslogYear`).
    var syslogStamp: SyslogStamp?
    /// The app line starts like a date and time (`2027-13-45 99:00:00`) that is none: the line
    /// has no time of its own, and a run says so.
    public var malformedTime = false
    /// The decoder's gate found that no rule can match the subject, and stopped there: the
    /// fields, the app line's time and the envelope's host and cursor were not read.
    var rejected = false

    /// Scratch for the decoder: the members of the last JSON object it read, as ranges of
    /// that object's bytes (which the record does not hold), kept so that their storage serves
    /// the next line. Nothing else reads them.
    var members: [JSONMember] = []

    public init() {}

    /// journald's `__CURSOR`, if the record has one.
    public var cursor: String? {
        cursorRange.map { String(decoding: fields.bytes[$0], as: UTF8.self) }
    }

    /// The host column or field of the envelope, if any.
    public var envelopeHost: String? {
        envelopeHostRange.map { String(decoding: fields.bytes[$0], as: UTF8.self) }
    }

    /// The host: the app record's host field, else the envelope's.
    public var host: String? { fields[.host] ?? envelopeHost }

    /// Calls `body` with the subject's bytes.
    public func withSubject<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try fields.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[subject])) }
    }

    /// Empties the record, keeping its storage for the next line.
    mutating func reset() {
        fields.reset()
        envelope = .none; shape = .plain; time = nil; timeSource = nil
        subject = 0..<0; envelopeHostRange = nil; cursorRange = nil; syslogStamp = nil; malformedTime = false; rejected = false
    }
}

/// Why a line that looked like a lock line could not be decoded.
public enum DecodeFailure: String, Error, Sendable {
    case malformedJSON = "malformed JSON"
    case envelopeMismatch = "does not match the forced --input-format"
}

/// Decodes lines into `LogRecord`s. Keeps no state between lines, so chunks of one input
/// can be decoded on several threads.
public struct RecordDecoder: Sendable {
    public var format: InputFormat
    public var timestamps: TimestampParser
    /// `--year`: the year of syslog timestamps; nil to infer it downstream, in input order.
    public var year: Int?
    /// The provisional year of syslog timestamps until it is inferred.
    public var fallbackYear: Int
    /// The alias table, held so that each line does not reach for the global.
    private let keys = KeyValueScanner.Keys.aliases

    public init(format: InputFormat = .auto, timestamps: TimestampParser = TimestampParser(),
                year: Int? = nil, fallbackYear: Int = 1970) {
        self.format = format
        self.timestamps = timestamps
        self.year = year
        self.fallbackYear = fallbackYear
    }

    /// Whether `inPlaceTime` may take lines: it serves only the formats whose plain lines
    /// it reads (auto-detection and forced plain).
    var decodesInPlace: Bool {
        switch format {
        case .auto, .forced(.none): true
        default: false
        }
    }

    /// The first half of `decode` without copying the line, for the commonest lock line: a
    /// plain text line (no envelope, not JSON) whose app line starts with its time. Returns
    /// that time, or nil when `decode` must take the line. It decides nothing of its own: the
    /// shape and the time are found by the functions `decode` calls.
    func inPlaceTime(_ line: UnsafeRawBufferPointer, dates: DateCache? = nil) -> EventTime? {
        guard decodesInPlace, !Self.looksJSON(line), let time = leadingTime(line, dates: dates).time else { return nil }
        if format == .auto, textEnvelope(line, forced: nil) != nil { return nil }
        return time
    }

    /// The second half, for a line `inPlaceTime` took: its fields, as ranges of the line, as
    /// `decode` finds them; false when a value is escaped (`decode` must take the line).
    func inPlaceFields(_ line: UnsafeRawBufferPointer, spans: inout FieldSet.Spans) -> Bool {
        var escaped: [(Field, Range<Int>)] = []
        KeyValueScanner.fill(&spans, from: line, base: 0, keys: keys, escaped: &escaped)
        return escaped.isEmpty
    }

    /// Whether the line is a JSON object (its first byte past blanks is `{`): `decode` reads it as JSON.
    static func looksJSON(_ line: UnsafeRawBufferPointer) -> Bool {
        var first = 0
        while first < line.count, lw_is_blank(line[first]) != 0 { first += 1 }
        return first < line.count && line[first] == UInt8(ascii: "{")
    }

    /// Where a text app line's content starts: past its spaces.
    private static func contentStart(_ b: UnsafeRawBufferPointer) -> Int {
        var first = 0
        while first < b.count, b[first] == 0x20 { first += 1 }
        return first
    }

    /// Where a text app line's content starts, and the time it starts with, if any.
    private func leadingTime(_ b: UnsafeRawBufferPointer, dates: DateCache? = nil) -> (first: Int, time: EventTime?) {
        let first = Self.contentStart(b)
        return (first, timestamps.parseISO(b, at: first, dates: dates)?.time)
    }

    /// Decodes one line (without its newline).
    public func decode(_ line: UnsafeRawBufferPointer) -> Result<LogRecord, DecodeFailure> {
        var rec = LogRecord()
        if let failure = decode(line, into: &rec) { return .failure(failure) }
        return .success(rec)
    }

    /// Decodes one line into `rec`, reusing its storage; returns why it could not. With a
    /// `gate`, decoding stops once the subject is known if no rule can match it
    /// (`LogRecord.rejected`): a lock line that is not a record (a call, an RPC's access line)
    /// costs no more than finding its text.
    func decode(_ line: UnsafeRawBufferPointer, into rec: inout LogRecord, gate: Matcher? = nil) -> DecodeFailure? {
        rec.reset()
        let looksJSON = Self.looksJSON(line)
        switch format {
        case .auto:
            if looksJSON { return decodeJSONLine(line, into: &rec, gate: gate) }
            copyLine(line, into: &rec)
            if !decodeTextEnvelope(line, forced: nil, into: &rec, gate: gate) { plainLine(line, into: &rec, gate: gate) }
            return nil
        case .forced(let e):
            switch e {
            case .journaldJSON, .docker:
                guard looksJSON else { return .envelopeMismatch }
                return decodeJSONLine(line, into: &rec, gate: gate)
            case .none:
                copyLine(line, into: &rec)
                plainLine(line, into: &rec, gate: gate)
                return nil
            default:
                copyLine(line, into: &rec)
                return decodeTextEnvelope(line, forced: e, into: &rec, gate: gate) ? nil : .envelopeMismatch
            }
        }
    }

    /// Text lines are decoded in place: the record's bytes start with the line itself, so
    /// offsets in the line are offsets in the record.
    private func copyLine(_ line: UnsafeRawBufferPointer, into rec: inout LogRecord) {
        rec.fields.bytes.append(contentsOf: line)
    }

    private func plainLine(_ line: UnsafeRawBufferPointer, into rec: inout LogRecord, gate: Matcher?) {
        decodeApp(line, at: 0, envelope: .none, into: &rec, gate: gate)
        settle(&rec, envelopeTime: nil)
    }

    /// The keys of a JSON line that say which envelope it has; a line's first member of each
    /// is the one read.
    private enum EnvelopeKey: Int, CaseIterable {
        case journaldMessage, realtime, hostname, cursor, log, stream, time, msg, message
        var word: StaticString {
            switch self {
            case .journaldMessage: "MESSAGE"
            case .realtime: "__REALTIME_TIMESTAMP"
            case .hostname: "_HOSTNAME"
            case .cursor: "__CURSOR"
            case .log: "log"
            case .stream: "stream"
            case .time: "time"
            case .msg: "msg"
            case .message: "message"
            }
        }

        /// The words in the table the key=value scan uses for field names.
        private static let table = KeyValueScanner.Keys(numbered: allCases.map { ("\($0.word)", $0.rawValue) })

        /// The envelope key that `key` (a key's text) is, if any.
        static func of(_ key: UnsafeRawBufferPointer) -> EnvelopeKey? { table.number(key).flatMap(EnvelopeKey.init(rawValue:)) }
    }

    private func decodeJSONLine(_ line: UnsafeRawBufferPointer, into rec: inout LogRecord, gate: Matcher?) -> DecodeFailure? {
        guard JSONObjectReader.members(line, into: &rec.members) else { return .malformedJSON }
        let members = rec.members
        // Per envelope key, its first member's place, -1 for none (in a vector: no allocation).
        var at = SIMD16<Int32>(repeating: -1)
        for (i, m) in members.enumerated() {
            if let k = JSONObjectReader.withKey(m, of: line, EnvelopeKey.of), at[k.rawValue] < 0 {
                at[k.rawValue] = Int32(truncatingIfNeeded: i)
            }
        }
        func member(_ k: EnvelopeKey) -> JSONMember? { at[k.rawValue] < 0 ? nil : members[Int(at[k.rawValue])] }
        func time(_ k: EnvelopeKey) -> EventTime? {
            member(k).flatMap { JSONObjectReader.withValueText($0, of: line) { timestamps.parse($0) } ?? nil }
        }
        if member(.journaldMessage) != nil || member(.realtime) != nil {
            let envTime = time(.realtime)
            if let m = member(.journaldMessage) {
                if m.kind == .byteArray {
                    rec.fields.bytes = JSONObjectReader.byteArray(UnsafeRawBufferPointer(rebasing: line[m.value])) ?? []
                } else {
                    _ = appendText(m, of: line, to: &rec)
                }
            }
            decodeAppInRecord(envelope: .journaldJSON, into: &rec, gate: gate)
            if rec.rejected { return nil }
            if let m = member(.hostname) { rec.envelopeHostRange = appendText(m, of: line, to: &rec) }
            if let m = member(.cursor) { rec.cursorRange = appendText(m, of: line, to: &rec) }
            settle(&rec, envelopeTime: envTime)
            return nil
        }
        if let log = member(.log), log.kind.hasText, member(.stream) != nil || member(.time) != nil,
           member(.msg) == nil, member(.message) == nil {
            _ = appendText(log, of: line, to: &rec)
            while let last = rec.fields.bytes.last, last == 0x0A || last == 0x0D { rec.fields.bytes.removeLast() }
            let envTime = time(.time)
            decodeAppInRecord(envelope: .docker, into: &rec, gate: gate)
            if rec.rejected { return nil }
            settle(&rec, envelopeTime: envTime)
            return nil
        }
        jsonApp(members, of: line, envelope: .none, into: &rec)
        settle(&rec, envelopeTime: nil)
        return nil
    }

    /// Appends a member's value as text (`JSONObjectReader.withValueText`) to the record's
    /// bytes and returns its range; nil, appending nothing, for a value without text.
    private func appendText(_ m: JSONMember, of b: UnsafeRawBufferPointer, to rec: inout LogRecord) -> Range<Int>? {
        let start = rec.fields.bytes.count
        guard JSONObjectReader.appendValueText(m, of: b, to: &rec.fields.bytes) else { return nil }
        return start..<rec.fields.bytes.count
    }

    /// Decodes the app line that is the whole of the record's bytes so far. The app line is
    /// read from a second reference to those bytes, so that what `decodeApp` appends (an
    /// unescaped value, a JSON app record's subject) goes to a copy and the bytes it reads stay.
    private func decodeAppInRecord(envelope: Envelope, into rec: inout LogRecord, gate: Matcher?) {
        let app = rec.fields.bytes
        app.withUnsafeBytes { decodeApp($0, at: 0, envelope: envelope, into: &rec, gate: gate) }
    }

    /// A text envelope found at the start of a line: which, its host column, where the app
    /// line starts, and the envelope's time.
    struct TextEnvelope {
        var envelope: Envelope
        var host: Range<Int>?
        var appStart: Int
        var time: EventTime?
        /// A syslog stamp whose year is still to be inferred (no `--year`).
        var stamp: SyslogStamp?
    }

    /// Tries the text envelopes in turn (only `forced` when given); nil when the line has none
    /// of them. The one definition of what a text envelope is, for `decode` and the plain lane (`inPlaceTime`).
    func textEnvelope(_ b: UnsafeRawBufferPointer, forced: Envelope?) -> TextEnvelope? {
        guard b.count > 10 else { return nil }
        let c0 = b[0]
        if isDigit(c0) {
            if forced == nil || forced == .cri || forced == .shortISO, b[4] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
               let (t, end) = timestamps.parseISO(b, at: 0), end < b.count, b[end] == 0x20 {
                let rest = end + 1
                if forced != .shortISO, let appStart = criPrefix(b, rest) {
                    return TextEnvelope(envelope: .cri, host: nil, appStart: appStart, time: t)
                }
                if forced != .cri, let (host, appStart) = syslogTail(b, rest, needsPid: true) {
                    return TextEnvelope(envelope: .shortISO, host: host, appStart: appStart, time: t)
                }
            }
            if forced == nil || forced == .shortUnix {
                var i = 0
                while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: ".") { i += 1 }
                if i >= 9, i < b.count, b[i] == 0x20,
                   let t = TimestampParser.parseEpoch(UnsafeRawBufferPointer(rebasing: b[0..<i])),
                   let (host, appStart) = syslogTail(b, i + 1) {
                    return TextEnvelope(envelope: .shortUnix, host: host, appStart: appStart, time: t)
                }
            }
            return nil
        }
        if forced == nil || forced == .short, c0 &- 65 < 26, let s = TimestampParser.parseSyslog(b, at: 0),
           s.end < b.count, b[s.end] == 0x20, let (host, appStart) = syslogTail(b, s.end + 1) {
            var time = timestamps.syslogTime(s, year: year ?? fallbackYear)
            if time == nil, year == nil {
                // Inferred later, the year is provisional: February 29 takes a leap year.
                time = (1...3).lazy.compactMap { timestamps.syslogTime(s, year: fallbackYear - $0) }.first
            }
            return TextEnvelope(envelope: .short, host: host, appStart: appStart, time: time, stamp: year == nil ? s : nil)
        }
        return nil
    }

    /// Decodes the line's text envelope and its app line; false when it has none. The
    /// record's bytes are the line already.
    private func decodeTextEnvelope(_ b: UnsafeRawBufferPointer, forced: Envelope?, into rec: inout LogRecord,
                                    gate: Matcher?) -> Bool {
        guard let e = textEnvelope(b, forced: forced) else { return false }
        decodeApp(UnsafeRawBufferPointer(rebasing: b[e.appStart...]), at: e.appStart, envelope: e.envelope, into: &rec, gate: gate)
        if rec.rejected { return true }
        rec.envelopeHostRange = e.host
        settle(&rec, envelopeTime: e.time)
        if let stamp = e.stamp, rec.timeSource == .envelope { rec.syslogStamp = stamp }
        return true
    }

    /// `stdout F ` / `stderr P ` after a CRI timestamp; returns where the app line starts.
    private func criPrefix(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int? { CRIPartials.streamTag(b, i)?.app }

    /// `host ident[pid]: ` after a syslog-style timestamp; returns the host and where the app line
    /// starts. A log level is never a host (`2026-11-26T14:00:00Z WARNING entry_lock: …` is a
    /// plain line), and with `needsPid` — journald's short-iso — the identifier must carry its
    /// `[pid]`.
    private func syslogTail(_ b: UnsafeRawBufferPointer, _ i0: Int, needsPid: Bool = false) -> (Range<Int>, Int)? {
        var i = i0
        let hostStart = i
        while i < b.count, b[i] != 0x20 { i += 1 }
        guard i > hostStart, i < b.count else { return nil }
        let host = hostStart..<i
        if Self.isLevelWord(UnsafeRawBufferPointer(rebasing: b[host])) { return nil }
        i += 1
        let identStart = i
        while i < b.count, b[i] != 0x20, b[i] != UInt8(ascii: ":") { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: ":"), i > identStart else { return nil }
        if needsPid {
            // `ident[digits]` just before the colon.
            var k = i - 1
            guard k > identStart, b[k] == UInt8(ascii: "]") else { return nil }
            k -= 1
            let digitsEnd = k
            while k > identStart, isDigit(b[k]) { k -= 1 }
            guard k < digitsEnd, k > identStart, b[k] == UInt8(ascii: "[") else { return nil }
        }
        i += 1
        if i < b.count, b[i] == 0x20 { i += 1 }
        return (host, i)
    }

    /// Log levels as loggers write them (any case, in brackets or with a colon): never a host.
    private static let levelWords: [[UInt8]] = [
        "trace", "debug", "info", "information", "notice", "warn", "warning", "error", "err", "critical", "crit",
        "fatal", "alert", "emerg", "emergency", "severe", "panic",
    ].map { Array($0.utf8) }

    static func isLevelWord(_ token: UnsafeRawBufferPointer) -> Bool {
        var start = 0, end = token.count
        while start < end, token[start] == UInt8(ascii: "[") { start += 1 }
        while end > start, token[end - 1] == UInt8(ascii: "]") || token[end - 1] == UInt8(ascii: ":") { end -= 1 }
        let n = end - start
        guard n >= 3, n <= 11 else { return false }
        return levelWords.contains { w in
            w.count == n && w.indices.allSatisfy { k in
                let c = token[start + k]
                return (c &- 65 < 26 ? c | 0x20 : c) == w[k]
            }
        }
    }

    /// Decodes the app record (JSON, logfmt or plain) from the app line `b`, which lies at
    /// offset `base` of the record's bytes.
    func decodeApp(_ b: UnsafeRawBufferPointer, at base: Int, envelope: Envelope, into rec: inout LogRecord,
                   gate: Matcher? = nil) {
        rec.envelope = envelope
        let first = Self.contentStart(b)
        if first < b.count, b[first] == UInt8(ascii: "{"), JSONObjectReader.members(b, into: &rec.members) {
            jsonApp(rec.members, of: b, envelope: envelope, into: &rec)
            return
        }
        rec.subject = base..<(base + b.count)
        if let gate, !gate.mayMatch(b) {
            rec.rejected = true
            return
        }
        let leading = timestamps.parseISO(b, at: first)?.time
        var escaped: [(Field, Range<Int>)] = []
        KeyValueScanner.fill(&rec.fields.spans, from: b, base: base, keys: keys, escaped: &escaped)
        for (f, r) in escaped where !rec.fields.has(f) {
            let value = KeyValueScanner.unescaped(rec.fields.bytes[r])
            let start = rec.fields.bytes.count
            rec.fields.bytes.append(contentsOf: value)
            rec.fields.spans[f] = start..<rec.fields.bytes.count
        }
        if let t = leading {
            rec.time = t
        } else {
            rec.malformedTime = Self.looksLikeDateTime(b, at: first)
            if first < b.count, KeyValueScanner.isKeyByte(b[first]), startsWithPair(b, first) { rec.shape = .logfmt }
            if let t = rec.fields.withValue(.time, { timestamps.parse($0) }) { rec.time = t }
        }
        if rec.time != nil { rec.timeSource = .app }
    }

    /// `dddd-dd-dd` then a space or `T` and a digit at `i`: the shape of a date and time.
    static func looksLikeDateTime(_ b: UnsafeRawBufferPointer, at i: Int) -> Bool {
        guard i + 12 <= b.count else { return false }
        for k in [0, 1, 2, 3, 5, 6, 8, 9, 11] where !isDigit(b[i + k]) { return false }
        return b[i + 4] == UInt8(ascii: "-") && b[i + 7] == UInt8(ascii: "-")
            && (b[i + 10] == 0x20 || b[i + 10] == UInt8(ascii: "T"))
    }

    private func startsWithPair(_ b: UnsafeRawBufferPointer, _ i0: Int) -> Bool {
        var i = i0
        while i < b.count, KeyValueScanner.isKeyByte(b[i]) { i += 1 }
        return i < b.count && b[i] == UInt8(ascii: "=")
    }

    /// A JSON app record (the members of `b`): its subject — the message, then the other
    /// members with text as ` key=value`, quoted when the value is empty or has a blank — is
    /// appended to the record's bytes, and each known field's value is the text there of its
    /// member with the most specific name, the first of them (a field already set is kept).
    /// `b` must stay readable while the record's bytes grow: the line itself, or bytes the
    /// caller holds apart (`decodeAppInRecord`).
    private func jsonApp(_ members: [JSONMember], of b: UnsafeRawBufferPointer, envelope: Envelope, into rec: inout LogRecord) {
        rec.envelope = envelope
        rec.shape = .json
        let keys = keys
        // Each member's field and its name's rank, looked up once: (field + 1) << 8 | rank, 0
        // for none (a table of at most 64 names ranks them below 255).
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: members.count) { known in
            for (i, m) in members.enumerated() {
                let found = m.kind.hasText || m.kind == .null ? JSONObjectReader.withKey(m, of: b) { keys.rankedLookup($0) } : nil
                known[i] = found.map { UInt16($0.field.rawValue + 1) << 8 | UInt16($0.rank) } ?? 0
            }
            func field(_ i: Int) -> Field? { known[i] == 0 ? nil : Field(rawValue: Int(known[i] >> 8) - 1) }
            func rank(_ i: Int) -> UInt8 { UInt8(known[i] & 0xFF) }
            var ranks = FieldSet.Ranks()
            let start = rec.fields.bytes.count
            // Room for the text and its separators at once: the subject is at most the line's
            // bytes (escapes only shrink, save where U+FFFD replaces a byte) and three a member.
            rec.fields.bytes.reserveCapacity(start + 2 * b.count + 3 * members.count)
            // The message is the member that wins the field; it comes first in the subject.
            var message: Int? = nil
            for i in members.indices where field(i) == .message && members[i].kind.hasText
                && ranks.take(.message, rank: rank(i), filled: false) {
                message = i
            }
            if let message { rec.fields.spans[.message] = appendText(members[message], of: b, to: &rec) }
            for (i, m) in members.enumerated() where i != message && (m.kind.hasText || known[i] != 0) {
                if m.kind == .null {
                    // A field's `null` is its empty value: it is in the ranking, not in the subject.
                    let here = rec.fields.bytes.count
                    if let f = field(i), f != .message, ranks.take(f, rank: rank(i), filled: rec.fields.has(f)) { rec.fields.spans[f] = here..<here }
                    continue
                }
                rec.fields.bytes.append(0x20)
                JSONObjectReader.withKey(m, of: b) { rec.fields.bytes.append(contentsOf: $0) }
                rec.fields.bytes.append(UInt8(ascii: "="))
                guard var value = appendText(m, of: b, to: &rec) else { continue }
                let quoted = value.isEmpty || rec.fields.bytes.withUnsafeBufferPointer { bytes in
                    bytes[value].contains { lw_is_blank($0) != 0 }
                }
                if quoted {
                    rec.fields.bytes.insert(UInt8(ascii: "\""), at: value.lowerBound)
                    rec.fields.bytes.append(UInt8(ascii: "\""))
                    value = (value.lowerBound + 1)..<(value.upperBound + 1)
                }
                if let f = field(i), f != .message, ranks.take(f, rank: rank(i), filled: rec.fields.has(f)) { rec.fields.spans[f] = value }
            }
            rec.subject = start..<rec.fields.bytes.count
        }
        if let t = rec.fields.withValue(.time, { timestamps.parse($0) }) {
            rec.time = t
            rec.timeSource = .app
        }
    }

    /// Picks the event time: the app record's own, else the envelope's.
    private func settle(_ rec: inout LogRecord, envelopeTime: EventTime?) {
        if rec.time == nil, let envelopeTime {
            rec.time = envelopeTime
            rec.timeSource = .envelope
        }
    }
}
