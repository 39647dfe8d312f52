import CScan
import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// The plain lane (decoding and reading a plain text line in place) against the general decoder
/// and matcher: where the lane takes a line, both must give the same record.
@Suite struct PlainLaneTests {
    /// What one path made of a line: the status, and the record when there is one.
    private enum Outcome: Equatable {
        case record(LockRecord, timeless: Bool)
        case noProfile(Int), none, limit(Int), unparsed
    }

    private static func outcome(_ outcome: MatchOutcome, _ records: [LockRecord]) -> Outcome {
        switch outcome {
        case .record(_, let timeless): .record(records[records.count - 1], timeless: timeless)
        case .noProfile(let k): .noProfile(k)
        case .none: .none
        case .limitExceeded(let k): .limit(k)
        }
    }

    private static func general(_ line: [UInt8], _ decoder: RecordDecoder, _ matcher: Matcher) -> Outcome {
        var rec = LogRecord()
        var records: [LockRecord] = []
        return line.withUnsafeBytes { b in
            if decoder.decode(b, into: &rec) != nil { return .unparsed }
            return outcome(matcher.match(&rec, origin: Origin(input: 0, line: 1), appendingTo: &records), records)
        }
    }

    /// The lane's outcome, given the chunk prefilter's first hit in the line as a worker gives it.
    private static func lane(_ line: [UInt8], _ decoder: RecordDecoder, _ matcher: Matcher,
                             prefilter: Prefilter? = nil) -> Outcome? {
        guard decoder.decodesInPlace else { return nil }
        var records: [LockRecord] = []
        return line.withUnsafeBytes { b -> Outcome? in
            let hit = prefilter?.firstHit(in: b) ?? -1
            guard let status = PlainLane.take(b, hit: hit, decoder: decoder, matcher: matcher, origin: Origin(input: 0, line: 1),
                                              into: &records)
            else { return nil }
            return outcome(status, records)
        }
    }

    static let starts = [
        "", " ", "\t", "2026-11-26 14:00:00,001 ", "2026-11-26T14:00:00.5Z ", "2026-11-26 14:00:00+02:00 ",
        "2026-11-26 14:00:00+0530 ", "2026-11-26 14:00:00-05 ", "2026-11-26 14:00:00+02: ", "2026-11-26 14:00:00+24:00 ",
        "2026-11-26 14:00:00z ", "  2026-11-26 14:00:00.123456789 ", "1764165600 host app: ", "1764165600.25 host app: ",
        "Nov 26 14:00:00 host app[1]: ", "2026-11-26T14:00:00Z stdout F ", "2026-11-26T14:00:00Z host app: ", "{",
        "2026/11/26 14:00:00 ", "14:00 ", "2026-02-30 10:00:00 ", "2026-11-26 24:00:00 ", "2024-02-29 23:59:60.9 ",
        "INFO ", "12345678 x ", "2026-11-27 00:00:01 ", "2025-02-29 10:00:00 ", "2026-11-26 14:00 ",
    ]
    static let messages = [
        "WARNING entry_lock: fn_try_acquire_entry_lock_row returned false",
        "INFO entry_lock: fn_try_acquire_entry_lock_row returned true", "WARNING trading_loop: lock acquisition failed; skipping signal",
        "WARNING trading_loop: lock acquisition failed", "INFO entry lock released", "fn_release_entry_lock_row returned true",
        "rpc done", "lock acquisition failed; Skipping Signal", "lock acquisition failed; skipping signals",
        "lock acquisition failed; xskipping signal", "health", "fn_try_acquire_entry_lock_row returned false_x",
    ]
    static let pairs = [
        "profile_id=p1", "profile_id=p2", "profile_id=", "profile=pX", "symbol=BTC-USD", "sym=", "owner_token=w1",
        "caller_token=w2", "host=h1", "hostname=", "worker=h2", "expires_at=2026-11-26T14:00:20.003Z",
        "expires_at=2026-11-26T14:00:20", "expires_at=2026-11-26T14:00:20+01:00", "expires_at=2026-11-26T14:00:20+01",
        "expires_at=1764165620", "expires_at=", "expires_at=\"2026-11-26 14:00:20\"", "expires_at=2026-11-26T14:00:20Zx",
        "expires_at=2026-12-01T00:00:00Z", "expires_at=2026-12-32T00:00:00Z",
        "latency_ms=7.0", "latency_ms=-3", "latency_ms=1e3", "latency_ms=1234567890123456.5", "latency_ms=abc",
        "latency_ms=5.", "latency_ms=", "latency_s=0.5", "latency_s=x", "skipped=true", "skipped=No", "skipped=",
        "skipped=0", "action=skip_signal", "action=skip_signals", "signal_skipped=YES", "signal_skipped=1",
        "fn=fn_try_acquire_entry_lock_row", "result=false", "ok=true", "msg=\"a \\\"q\\\" b\"", "owner_token=\"w 1\"",
        "lockContentionCount=3", "time=2026-11-26T14:00:01Z", "ts=1764165601", "x=y", "=", "a=\"b",
        // Fields under several names: the more specific wins wherever it stands.
        "caller=lock.go:42", "caller=\"lock.go:\\\"42\"", "token=t9", "owner=x", "owner=\"x\\\"\"", "holder=",
        "owner_token=\"w\\\"3\"", "caller_token=", "worker_id=7",
    ]

    /// Random lines of the lane's shape and of every shape beside it, through both paths, in
    /// every zone and format the lane serves or declines.
    @Test func laneAgreesWithTheGeneralPath() {
        var g = TestRandom()
        let setups: [(InputFormat, ZoneRule)] = [
            (.auto, .utc), (.auto, .fixed(seconds: 3600)), (.forced(.none), .fixed(seconds: -18000)),
            (.forced(.shortISO), .utc), (.auto, ZoneRule("Europe/Berlin")!),
        ]
        for (format, zone) in setups {
            let timestamps = TimestampParser(zone: zone)
            let decoder = RecordDecoder(format: format, timestamps: timestamps, year: 2026)
            let general = Matcher(rules: DefaultRules.rules(), timestamps: timestamps, shortcuts: false)
            let lane = Matcher(rules: DefaultRules.rules(), timestamps: timestamps)
            var taken = 0, records = 0
            let rounds = 20_000
            for round in 0..<rounds {
                var text = Self.starts.randomElement(using: &g)! + Self.messages.randomElement(using: &g)!
                for _ in 0..<Int.random(in: 0...7, using: &g) {
                    text += Bool.random(using: &g) ? " " : (Bool.random(using: &g) ? "\t" : "  ")
                    // Fresh profiles too, so that names the lane's cache has not seen are interned.
                    text += round % 7 == 0 ? "profile_id=p\(round)" : Self.pairs.randomElement(using: &g)!
                }
                if round % 13 == 0 { text += " " }
                let line = Array(text.utf8)
                let want = Self.general(line, decoder, general)
                guard let got = Self.lane(line, decoder, lane, prefilter: Self.prefilter) else { continue }
                taken += 1
                if case .record = got { records += 1 }
                #expect(got == want, "\(format) \(zone): \(text)")
                if got != want { return }
            }
            if !decoder.decodesInPlace {
                #expect(taken == 0)
            } else {
                // Not vacuous: the lane takes a good share of the lines, records among them.
                #expect(taken > rounds / 10 && records > rounds / 20, "\(format) \(zone): \(taken) taken, \(records) records")
            }
        }
    }

    static let prefilter = Configuration().prefilter

    /// Rules of one's own before the built-in ones, whose literals the chunk prefilter reduces
    /// (`lock` keeps neither `_lock_row` nor `entry lock`; `entry_lock_row` is dropped for
    /// `_lock_row`): the first hit the lane is given still decides exactly what searching the
    /// whole line decides.
    @Test func theChunkHitDecidesAsTheWholeLineDoes() throws {
        var g = TestRandom()
        let own: [[Rule]] = [
            [try Rule(name: "lock", kind: .warning, pattern: #"(?i)\block busy\b"#, literals: [Literal("lock", caseInsensitive: true)])],
            [try Rule(name: "row", kind: .failed, pattern: #"entry_lock_row busy"#, literals: [Literal("entry_lock_row")])],
            [try Rule(name: "late", kind: .released, pattern: #"freed"#, literals: [Literal("freed"), Literal("acquisition")])],
        ]
        let decoder = RecordDecoder(year: 2026)
        let words = ["lock busy", "entry_lock_row busy", "freed", "LOCK", "acquisition", "entry lock", "_lock_row",
                     "fn_try_acquire_entry_lock_row returned false", "lock acquisition failed", "entry lock released", "x"]
        var decided = 0
        for rules in own {
            var configuration = Configuration()
            configuration.rules = rules + DefaultRules.rules()
            let matcher = Matcher(rules: configuration.rules, timestamps: TimestampParser())
            let reference = Matcher(rules: configuration.rules, timestamps: TimestampParser(), shortcuts: false)
            for _ in 0..<5_000 {
                var text = "2026-11-26 14:00:00,001 "
                for _ in 0..<Int.random(in: 1...5, using: &g) { text += words.randomElement(using: &g)! + " " }
                text += "profile_id=p1"
                let line = Array(text.utf8)
                guard let got = Self.lane(line, decoder, matcher, prefilter: configuration.prefilter) else { continue }
                decided += 1
                #expect(got == Self.lane(line, decoder, reference), "\(text)")
            }
        }
        #expect(decided > 10_000)
    }

    /// Rules with named groups close the lane: their captures are written by the general matcher.
    @Test func rulesWithGroupsCloseTheLane() throws {
        #expect(Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser()).servesPlainLane)
        let grouped = try Rule(name: "g", kind: .failed, pattern: #"busy (?<profile>\S+)"#, literals: [Literal("busy")])
        #expect(!Matcher(rules: [grouped] + DefaultRules.rules(), timestamps: TimestampParser()).servesPlainLane)
    }

    /// The storm's lines, the lane's reason to be, are all taken by it.
    @Test func takesTheCommonLockLines() {
        let decoder = RecordDecoder()
        let matcher = Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser())
        for text in [
            "2026-11-26 14:00:00,003 WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=6ffc4798 symbol=BTC-USD owner_token=worker-1:d2c69aa5 caller_token=worker-2:9c5aafb2 expires_at=2026-11-26T14:00:20.003Z latency_ms=7.0",
            "2026-11-26 14:00:00,002 WARNING trading_loop: lock acquisition failed; skipping signal profile_id=869b7c3d symbol=BTC-USD",
            "2026-11-26 14:00:00,007 INFO entry_lock: fn_try_acquire_entry_lock_row returned true profile_id=919e9bc7 symbol=ADA-USD caller_token=worker-2:9c5aafb2 latency_ms=2.1",
        ] {
            let line = Array(text.utf8)
            let got = Self.lane(line, decoder, matcher)
            #expect(got != nil, "\(text)")
            #expect(got == Self.general(line, decoder, matcher))
        }
    }
}
