/// The rotated files of one log (`worker.log.2.gz`, `worker.log.1`, `worker.log`): syslog times
/// have no year, so the year of each file's first time is carried from the older files to the
/// newer, whichever order the files are named in (docs/semantics.md, "Syslog years").
enum Rotation {
    /// The log a path belongs to and how old it is among that log's files (0 the current file,
    /// larger older): `worker.log.2.gz` is (`worker.log`, 2); `worker.log-20261201` is
    /// (`worker.log`, a rank that falls as the date rises).
    static func member(_ path: String) -> (log: String, age: Int) {
        var name = Substring(path)
        if name.hasSuffix(".gz") { name = name.dropLast(3) }
        // `.N` (logrotate's numbered files)
        // (not the last number of an address: `10.0.0.1` is a name of its own)
        if let dot = name.lastIndex(of: "."), let n = Int(name[name.index(after: dot)...]), n >= 0, n < 1000,
           name[name.index(after: dot)...].allSatisfy(\.isASCII),
           name[..<dot].split(separator: "/").last?.contains(where: { !$0.isNumber && $0 != "." }) ?? false {
            return (String(name[..<dot]), n)
        }
        // `-YYYYMMDD` / `.YYYYMMDD` / `-YYYY-MM-DD` (dateext)
        for length in [8, 10] {
            guard name.count > length + 1 else { continue }
            let date = name.suffix(length)
            let separator = name[name.index(name.endIndex, offsetBy: -length - 1)]
            let digits = date.filter(\.isNumber)
            guard separator == "-" || separator == ".", digits.count == 8, let d = Int(digits),
                  length == 8 || (date.dropFirst(4).first == "-" && date.dropFirst(7).first == "-")
            else { continue }
            return (String(name.dropLast(length + 1)), 100_000_000 - d)
        }
        return (String(name), 0)
    }

    /// The year of each input's first syslog time, given each input's path (nil for standard
    /// input) and first syslog time (nil when it has none): the files of one log, oldest first,
    /// carry the year forward (a newer file whose first time is earlier in the calendar starts
    /// the next year). The oldest file of a log takes `given` (`--year`) when there is one;
    /// else the newest file's first time takes `latest`, and the older files count back from it
    /// (a log of one file is left to infer its year as it is read: nil).
    static func initialYears(paths: [String?], firstStamps: [SyslogStamp?], given: Int?,
                             latest: (SyslogStamp) -> Int) -> [Int?] {
        var years = [Int?](repeating: nil, count: paths.count)
        var logs: [String: [(age: Int, input: Int)]] = [:]
        for (k, path) in paths.enumerated() {
            guard let path, firstStamps[k] != nil else { continue }
            let m = member(path)
            logs[m.log, default: []].append((m.age, k))
        }
        for (_, files) in logs {
            // A file of its own without `--year` infers its year as it is read (a full time
            // before its first syslog time counts there).
            if files.count == 1, given == nil { continue }
            let oldestFirst = files.sorted { ($0.age, $1.input) > ($1.age, $0.input) }
            // Years after the oldest file's, in order.
            var offsets: [Int] = []
            var offset = 0
            var previous: SyslogStamp? = nil
            for f in oldestFirst {
                let s = firstStamps[f.input]!
                if let p = previous, (s.month, s.day, s.secondOfDay, s.micros) < (p.month, p.day, p.secondOfDay, p.micros) {
                    offset += 1
                }
                offsets.append(offset)
                previous = s
            }
            let base = given ?? (latest(firstStamps[oldestFirst.last!.input]!) - offsets.last!)
            for (f, o) in zip(oldestFirst, offsets) { years[f.input] = base + o }
        }
        return years
    }
}
