import LockwatchCore
@testable import LockwatchCore

/// One line through decoding and matching, every path compared.
enum LineTarget {
    private static let configuration = Configuration()
    private static let decoder = RecordDecoder()
    nonisolated(unsafe) private static let fast = Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser(), shortcuts: true)
    nonisolated(unsafe) private static let plain = Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser(), shortcuts: false)
    private static let prefilter = configuration.prefilter

    /// What one path made of the line.
    enum Outcome: Equatable {
        case record(LockRecord, timeless: Bool)
        case noProfile(Int), none, limit(Int), unparsed
    }

    static func outcome(_ outcome: MatchOutcome, _ records: [LockRecord]) -> Outcome {
        switch outcome {
        case .record(_, let timeless): .record(records[records.count - 1], timeless: timeless)
        case .noProfile(let k): .noProfile(k)
        case .none: .none
        case .limitExceeded(let k): .limit(k)
        }
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        // A line as the chunk scanner hands it on: up to its newline, without a final CR.
        var end = data.firstIndex(of: 0x0A) ?? data.count
        if end > 0, data[end - 1] == 0x0D { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: data[0..<end])
        var rec = LogRecord()
        var records: [LockRecord] = []
        let general: Outcome
        let withoutShortcuts: Outcome
        if decoder.decode(line, into: &rec) != nil {
            general = .unparsed
            withoutShortcuts = .unparsed
        } else {
            var copy = rec
            general = outcome(fast.match(&rec, origin: Origin(input: 0, line: 1), appendingTo: &records), records)
            withoutShortcuts = outcome(plain.match(&copy, origin: Origin(input: 0, line: 1), appendingTo: &records), records)
        }
        if general != withoutShortcuts { fatalError("the rule shortcuts and the patterns disagree: \(general) against \(withoutShortcuts)") }
        // The line gate turns a line away only where no rule can match it.
        if general != .none, general != .unparsed, !fast.mayMatch(line: line) || !plain.mayMatch(line: line) {
            fatalError("the line gate turned away a line that gives \(general)")
        }
        if decoder.decodesInPlace {
            var laneRecords: [LockRecord] = []
            let hit = prefilter.firstHit(in: line) ?? -1
            if let status = PlainLane.take(line, hit: hit, decoder: decoder, matcher: fast, origin: Origin(input: 0, line: 1),
                                           into: &laneRecords) {
                let got = outcome(status, laneRecords)
                if got != general { fatalError("the plain lane and the general path disagree: \(got) against \(general)") }
            }
        }
        // `explain` builds text for every rule: one input in eight, so that the paths above run fast.
        if data.count % 8 == 0 { _ = Explanation(line: Array(line), configuration: configuration) }
    }
}
