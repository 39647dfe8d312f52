// Decoding: one line of bytes → one LogRecord, in two layers (envelope, then app record).

/// Who wrote a line and when it was received (SPEC section 1, envelopes).
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
public struct LogRecord: Sendable {
    public var envelope: Envelope
    public var shape: AppShape
    /// The event time: the app record's own, else the envelope's; nil when the line has none.
    public var time: EventTime?
    public var timeSource: TimeSource?
    /// The host column or field of the envelope, if any.
    public var envelopeHost: String?
    /// The app record's fields, by alias.
    public var fields: FieldSet
    /// The text the rules run on: the app line, or for JSON records the message followed by
    /// every top-level member as `key=value`.
    public var subject: Subject

    /// Where the subject's bytes are: a range of the line itself (no copy), or bytes of its own.
    public enum Subject: Sendable {
        case slice(Range<Int>)
        case owned([UInt8])
    }

    /// Calls `body` with the subject's bytes; `line` is the line this record was decoded from.
    public func withSubject<R>(in line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch subject {
        case .slice(let r): return try body(UnsafeRawBufferPointer(rebasing: line[r]))
        case .owned(let bytes): return try bytes.withUnsafeBytes(body)
        }
    }
    /// journald's `__CURSOR`, kept for resuming a pipe.
    public var cursor: String?
    /// When the event time is a syslog timestamp whose year was not given: the stamp, so that
    /// the year can be inferred in input order (`SyslogYear`).
    var syslogStamp: SyslogStamp?

    /// The host: the app record's host field, else the envelope's.
    public var host: String? { fields[.host] ?? envelopeHost }
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

    public init(format: InputFormat = .auto, timestamps: TimestampParser = TimestampParser(),
                year: Int? = nil, fallbackYear: Int = 1970) {
        self.format = format
        self.timestamps = timestamps
        self.year = year
        self.fallbackYear = fallbackYear
    }

    /// Decodes one line (without its newline).
    public func decode(_ line: UnsafeRawBufferPointer) -> Result<LogRecord, DecodeFailure> {
        var first = 0
        while first < line.count, line[first] == 0x20 || line[first] == 0x09 { first += 1 }
        let looksJSON = first < line.count && line[first] == UInt8(ascii: "{")
        switch format {
        case .auto:
            if looksJSON { return decodeJSONLine(line) }
            return .success(decodeTextEnvelope(line, forced: nil) ?? plainLine(line))
        case .forced(let e):
            switch e {
            case .journaldJSON, .docker:
                guard looksJSON else { return .failure(.envelopeMismatch) }
                return decodeJSONLine(line)
            case .none:
                return .success(plainLine(line))
            default:
                guard let r = decodeTextEnvelope(line, forced: e) else { return .failure(.envelopeMismatch) }
                return .success(r)
            }
        }
    }

    private func plainLine(_ line: UnsafeRawBufferPointer) -> LogRecord {
        var rec = decodeApp(line, envelope: .none, line: line)
        settle(&rec, envelopeTime: nil)
        return rec
    }

    private func decodeJSONLine(_ line: UnsafeRawBufferPointer) -> Result<LogRecord, DecodeFailure> {
        guard let members = JSONObjectReader.read(line) else { return .failure(.malformedJSON) }
        var get: [String: JSONScalar] = [:]
        for m in members where get[m.key] == nil { get[m.key] = m.value }
        if get["MESSAGE"] != nil || get["__REALTIME_TIMESTAMP"] != nil {
            var envTime: EventTime? = nil
            if let t = get["__REALTIME_TIMESTAMP"]?.text { envTime = timestamps.parse(t) }
            let app: [UInt8]
            switch get["MESSAGE"] {
            case .bytes(let b)?: app = b
            case let v?: app = Array((v.text ?? "").utf8)
            case nil: app = []
            }
            var rec = app.withUnsafeBytes { decodeApp($0, envelope: .journaldJSON) }
            rec.envelopeHost = get["_HOSTNAME"]?.text
            rec.cursor = get["__CURSOR"]?.text
            settle(&rec, envelopeTime: envTime)
            return .success(rec)
        }
        if let log = get["log"]?.text, get["stream"] != nil || get["time"] != nil,
           get["msg"] == nil, get["message"] == nil {
            var app = Array(log.utf8)
            while let last = app.last, last == 0x0A || last == 0x0D { app.removeLast() }
            let envTime = get["time"]?.text.flatMap { timestamps.parse($0) }
            var rec = app.withUnsafeBytes { decodeApp($0, envelope: .docker) }
            settle(&rec, envelopeTime: envTime)
            return .success(rec)
        }
        var rec = jsonApp(members, envelope: .none)
        settle(&rec, envelopeTime: nil)
        return .success(rec)
    }

    /// Tries the text envelopes in turn; nil when the line has none of them.
    private func decodeTextEnvelope(_ b: UnsafeRawBufferPointer, forced: Envelope?) -> LogRecord? {
        guard b.count > 10 else { return nil }
        let c0 = b[0]
        if isDigit(c0) {
            if forced == nil || forced == .cri || forced == .shortISO,
               let (t, end) = timestamps.parseISO(b, at: 0), end < b.count, b[end] == 0x20,
               b[4] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T") {
                let rest = end + 1
                if forced != .shortISO, let appStart = criPrefix(b, rest) {
                    return app(b, from: appStart, envelope: .cri, host: nil, time: t)
                }
                if forced != .cri, let (host, appStart) = syslogTail(b, rest) {
                    return app(b, from: appStart, envelope: .shortISO, host: host, time: t)
                }
            }
            if forced == nil || forced == .shortUnix {
                var i = 0
                while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: ".") { i += 1 }
                if i >= 9, i < b.count, b[i] == 0x20,
                   let t = TimestampParser.parseEpoch(UnsafeRawBufferPointer(rebasing: b[0..<i])),
                   let (host, appStart) = syslogTail(b, i + 1) {
                    return app(b, from: appStart, envelope: .shortUnix, host: host, time: t)
                }
            }
            return nil
        }
        if forced == nil || forced == .short, c0 &- 65 < 26, let s = TimestampParser.parseSyslog(b, at: 0),
           s.end < b.count, b[s.end] == 0x20, let (host, appStart) = syslogTail(b, s.end + 1) {
            var rec = app(b, from: appStart, envelope: .short, host: host,
                          time: timestamps.syslogTime(s, year: year ?? fallbackYear))
            if year == nil, rec.timeSource == .envelope { rec.syslogStamp = s }
            return rec
        }
        return nil
    }

    private func app(_ b: UnsafeRawBufferPointer, from start: Int, envelope: Envelope,
                     host: String?, time: EventTime?) -> LogRecord {
        var rec = decodeApp(UnsafeRawBufferPointer(rebasing: b[start...]), envelope: envelope, line: b)
        rec.envelopeHost = host
        settle(&rec, envelopeTime: time)
        return rec
    }

    /// `stdout F ` / `stderr P ` after a CRI timestamp; returns where the app line starts.
    private func criPrefix(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        guard i + 9 <= b.count else { return nil }
        let s = UnsafeRawBufferPointer(rebasing: b[i..<(i + 7)])
        guard s.elementsEqual("stdout ".utf8) || s.elementsEqual("stderr ".utf8) else { return nil }
        let tag = b[i + 7]
        guard tag == UInt8(ascii: "F") || tag == UInt8(ascii: "P") else { return nil }
        if i + 8 == b.count { return b.count }
        return b[i + 8] == 0x20 ? i + 9 : nil
    }

    /// `host ident[pid]: ` after a syslog-style timestamp; returns the host and where the app line starts.
    private func syslogTail(_ b: UnsafeRawBufferPointer, _ i0: Int) -> (String, Int)? {
        var i = i0
        let hostStart = i
        while i < b.count, b[i] != 0x20 { i += 1 }
        guard i > hostStart, i < b.count else { return nil }
        let host = String(decoding: UnsafeRawBufferPointer(rebasing: b[hostStart..<i]), as: UTF8.self)
        i += 1
        let identStart = i
        while i < b.count, b[i] != 0x20, b[i] != UInt8(ascii: ":") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: ":"), i > identStart {
            i += 1
            if i < b.count, b[i] == 0x20 { i += 1 }
            return (host, i)
        }
        return nil
    }

    /// Decodes the app record (JSON, logfmt or plain) from the app line.
    /// `line`: the line `b` lies in, so that the subject can point into it; nil when `b` is a
    /// copy of its own (a journald MESSAGE, a Docker `log`).
    func decodeApp(_ b: UnsafeRawBufferPointer, envelope: Envelope, line: UnsafeRawBufferPointer? = nil) -> LogRecord {
        var first = 0
        while first < b.count, b[first] == 0x20 { first += 1 }
        if first < b.count, b[first] == UInt8(ascii: "{"), let members = JSONObjectReader.read(b) {
            return jsonApp(members, envelope: envelope)
        }
        var fields = FieldSet()
        KeyValueScanner.fill(&fields, from: b)
        var time: EventTime? = nil
        var shape = AppShape.plain
        if let (t, _) = timestamps.parseISO(b, at: first) {
            time = t
        } else if first < b.count, KeyValueScanner.isKeyByte(b[first]), startsWithPair(b, first) {
            shape = .logfmt
        }
        if time == nil, let t = fields[.time] { time = timestamps.parse(t) }
        return LogRecord(envelope: envelope, shape: shape, time: time, timeSource: time == nil ? nil : .app,
                         envelopeHost: nil, fields: fields, subject: subject(b, in: line), cursor: nil, syslogStamp: nil)
    }

    private func subject(_ b: UnsafeRawBufferPointer, in line: UnsafeRawBufferPointer?) -> LogRecord.Subject {
        guard let line, let lb = line.baseAddress, let bb = b.baseAddress, bb >= lb, bb + b.count <= lb + line.count else {
            return .owned(Array(b))
        }
        let start = bb - lb
        return .slice(start..<(start + b.count))
    }

    private func startsWithPair(_ b: UnsafeRawBufferPointer, _ i0: Int) -> Bool {
        var i = i0
        while i < b.count, KeyValueScanner.isKeyByte(b[i]) { i += 1 }
        return i < b.count && b[i] == UInt8(ascii: "=")
    }

    private func jsonApp(_ members: [(key: String, value: JSONScalar)], envelope: Envelope) -> LogRecord {
        var fields = FieldSet()
        var message: String? = nil
        var rest: [UInt8] = []
        for (key, value) in members {
            guard let text = value.text else { continue }
            let f = Field.byAlias[key]
            if let f { fields.offer(f, text) }
            if f == .message, message == nil { message = text; continue }
            rest.append(0x20)
            rest.append(contentsOf: key.utf8)
            rest.append(UInt8(ascii: "="))
            if text.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) || text.isEmpty {
                rest.append(UInt8(ascii: "\""))
                rest.append(contentsOf: text.utf8)
                rest.append(UInt8(ascii: "\""))
            } else {
                rest.append(contentsOf: text.utf8)
            }
        }
        let time = fields[.time].flatMap { timestamps.parse($0) }
        return LogRecord(envelope: envelope, shape: .json, time: time, timeSource: time == nil ? nil : .app,
                         envelopeHost: nil, fields: fields, subject: .owned(Array((message ?? "").utf8) + rest), cursor: nil,
                         syslogStamp: nil)
    }

    /// Picks the event time: the app record's own, else the envelope's.
    private func settle(_ rec: inout LogRecord, envelopeTime: EventTime?) {
        if rec.time == nil, let envelopeTime {
            rec.time = envelopeTime
            rec.timeSource = .envelope
        }
    }
}
