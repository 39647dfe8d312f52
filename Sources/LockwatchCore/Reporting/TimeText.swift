// Reporting: event times and spans as text (RFC 3339, seconds, spoken), written as bytes
// without Foundation, for every printer.

extension EventTime {
    /// RFC 3339 in UTC with exactly three fractional digits, e.g. `2026-11-26T14:00:00.000Z`.
    public var rfc3339: String {
        let out = ByteBuffer(capacity: 32)
        appendRFC3339(to: out)
        return out.string
    }

    /// Appends the RFC 3339 form to bytes, without building a String.
    func appendRFC3339(to out: ByteBuffer) {
        var day = RFC3339Day()
        appendRFC3339(to: out, day: &day)
    }

    /// Appends the RFC 3339 form, the date taken from `day` when it is the same day (a printer
    /// keeps one, so that consecutive events convert the calendar date once a day).
    func appendRFC3339(to out: ByteBuffer, day: inout RFC3339Day) {
        let millis = floorDiv(micros, 1000)
        let secs = floorDiv(millis, 1000)
        let days = floorDiv(secs, 86_400)
        guard day.set(days) else { return appendRFC3339Wide(to: out) }
        let sod = Int(secs - days * 86_400)
        let ms = Int(millis - secs * 1000)
        // `YYYY-MM-DDThh:mm:ss.mmmZ`, 24 bytes written in place: the date from `day`, then the clock.
        let b = out.reserve(24)
        withUnsafeBytes(of: &day.prefix) { b.update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 11) }
        func two(_ v: Int, _ at: Int) { b[at] = UInt8(48 + v / 10); b[at + 1] = UInt8(48 + v % 10) }
        two(sod / 3600, 11); b[13] = 58; two(sod / 60 % 60, 14); b[16] = 58; two(sod % 60, 17); b[19] = 46
        b[20] = UInt8(48 + ms / 100); two(ms % 100, 21); b[23] = 90
        out.advance(by: 24)
    }

    /// Any year, digit by digit (years beyond 9999 or before 0).
    private func appendRFC3339Wide(to out: ByteBuffer) {
        let millis = floorDiv(micros, 1000)
        let secs = floorDiv(millis, 1000)
        let days = floorDiv(secs, 86_400)
        let sod = Int(secs - days * 86_400)
        let (y, m, d) = CivilCalendar.civil(fromDays: days)
        func digits(_ v: Int, _ width: Int) {
            var div = 1
            for _ in 1..<width { div *= 10 }
            var v = v
            for _ in 0..<width { out.append(UInt8(48 + v / div % 10)); v %= div; div /= 10 }
        }
        if y < 0 || y > 9999 { out.append(string: String(y)) } else { digits(Int(y), 4) }
        out.append(UInt8(ascii: "-")); digits(m, 2); out.append(UInt8(ascii: "-")); digits(d, 2)
        out.append(UInt8(ascii: "T")); digits(sod / 3600, 2); out.append(UInt8(ascii: ":")); digits(sod / 60 % 60, 2)
        out.append(UInt8(ascii: ":")); digits(sod % 60, 2); out.append(UInt8(ascii: "."))
        digits(Int(millis - secs * 1000), 3); out.append(UInt8(ascii: "Z"))
    }
}

/// The `YYYY-MM-DDT` of one day, kept by whoever writes many times of the same day.
struct RFC3339Day {
    private var days = Int64.min
    fileprivate var prefix: (UInt64, UInt64) = (0, 0)

    /// Makes this the given day (days since 1970-01-01); false when its year has not four digits.
    mutating func set(_ d: Int64) -> Bool {
        if d == days { return true }
        let (y, m, day) = CivilCalendar.civil(fromDays: d)
        guard y >= 0 && y <= 9999 else { return false }
        days = d
        let year = Int(y)
        withUnsafeMutableBytes(of: &prefix) { b in
            b[0] = UInt8(48 + year / 1000); b[1] = UInt8(48 + year / 100 % 10); b[2] = UInt8(48 + year / 10 % 10)
            b[3] = UInt8(48 + year % 10); b[4] = 45; b[5] = UInt8(48 + m / 10); b[6] = UInt8(48 + m % 10)
            b[7] = 45; b[8] = UInt8(48 + day / 10); b[9] = UInt8(48 + day % 10); b[10] = 84
        }
        return true
    }
}

extension TimeSpan {
    /// For people: `45 s`, `1 min 40 s`, `2 h 5 min`.
    public var spoken: String {
        let s = Int((Double(micros) / 1_000_000).rounded())
        return s >= 3600 ? "\(s / 3600) h \(s / 60 % 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }

    static func secondsText(_ micros: Int64) -> String {
        let out = ByteBuffer(capacity: 32)
        appendSeconds(micros, to: out)
        return out.string
    }

    /// `secondsText`, appended as bytes.
    static func appendSeconds(_ micros: Int64, to out: ByteBuffer) {
        let ms = roundedMillis(micros)
        if ms < 0 { out.append(UInt8(ascii: "-")) }
        let a = ms.magnitude
        appendDecimal(a / 1000, to: out)
        var frac = Int(a % 1000)
        guard frac != 0 else { return }
        var digits = 3
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        out.append(UInt8(ascii: "."))
        var div = 1
        for _ in 1..<digits { div *= 10 }
        while div > 0 { out.append(UInt8(48 + frac / div % 10)); div /= 10 }
    }
}

/// Appends the decimal digits of `v`.
func appendDecimal(_ v: UInt64, to out: ByteBuffer) {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &digits) { d in
        var v = v
        var n = 24
        repeat { n -= 1; d[n] = UInt8(48 + v % 10); v /= 10 } while v > 0
        out.append(UnsafeRawBufferPointer(rebasing: d[n...]))
    }
}
