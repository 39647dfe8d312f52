// Matching: why a line is (or is not) a lock record — `lockwatch explain`.

/// Everything lockwatch decides about one line, stage by stage.
public struct Explanation: Sendable {
    /// Whether the run's literal prefilter lets the line through at all.
    public var passesPrefilter: Bool
    /// Whether the line gate lets it through to decoding: false where its bytes show that no
    /// rule can match it (`Matcher.mayMatch(line:)`) and the plain lane, which comes first,
    /// does not take it.
    public var passesLineGate: Bool
    /// Where the gate turns it away, the literals it tests that the line lacks.
    public var lineGateLacks: [String] = []
    /// Whether a run decodes the line (the chunk prefilter and the line gate both let it through).
    public var isDecodedByARun: Bool { passesPrefilter && passesLineGate }
    public var decodeFailure: DecodeFailure?
    public var envelope: Envelope
    public var shape: AppShape
    public var time: EventTime?
    /// The line starts with a date and time that is none (`2027-13-45 99:00:00`).
    public var malformedTime = false
    public var timeSource: TimeSource?
    /// The host the envelope names (journald's `_HOSTNAME`, a syslog host column).
    public var envelopeHost: String?
    /// The fields decoded, by their canonical names.
    public var fields: [(name: String, value: String)]
    /// The text the rules run on.
    public var subject: String
    /// Each rule, in order, until one matched.
    public var trials: [RuleTrial]
    /// What the matcher made of the line.
    public var outcome: MatchOutcome
    /// The rule the outcome names, by name.
    public var rule: String?
    /// The lock record, when the outcome is one; a record without a time of its own has the
    /// time a run gives it.
    public var record: LockRecord?

    /// The closest rule that did not match: one whose literal occurs in the line but whose
    /// pattern does not match; nil when a rule matched or no literal occurs.
    public var nearestMiss: RuleTrial? {
        guard case .none = outcome else { return nil }
        return trials.first { $0.literalFound && $0.matched == false }
    }
}

/// One rule tried on one line.
public struct RuleTrial: Sendable {
    public var name: String
    public var kind: RecordKind
    public var literals: [Literal]
    /// Whether one of its literals occurs in the subject (true for a rule without literals).
    public var literalFound: Bool
    /// Whether its pattern matched; nil when the literal was missing, so it did not run.
    public var matched: Bool?
    public var pattern: String
    /// The named groups it captured.
    public var captures: [(name: String, value: String)]
}

extension Explanation {
    /// Explains `line` as a run with `configuration` would see it; a line without a time of
    /// its own takes `previousTime` (the last timed line's before it in its file), else
    /// `readClock`.
    public init(line: [UInt8], configuration: Configuration, readClock: EventTime = EventTime(micros: 0),
                previousTime: EventTime? = nil) {
        let timestamps = TimestampParser(zone: configuration.zone)
        let decoder = RecordDecoder(format: configuration.inputFormat, timestamps: timestamps,
                                    year: configuration.year, fallbackYear: 1970)
        passesPrefilter = line.withUnsafeBytes { configuration.prefilter.admits($0) }
        // The matcher itself decides the record, so that what is shown is what a run does.
        let matcher = Matcher(rules: configuration.rules, timestamps: timestamps)
        var laneRecords: [LockRecord] = []
        let inLane = PlainLane.isUsed(configuration, decoder: decoder, matcher: matcher) && line.withUnsafeBytes {
            PlainLane.take($0, hit: -1, decoder: decoder, matcher: matcher, origin: Origin(input: 0, line: 1), into: &laneRecords) != nil
        }
        passesLineGate = inLane || line.withUnsafeBytes { matcher.mayMatch(line: $0) }
        if !passesLineGate { lineGateLacks = line.withUnsafeBytes { matcher.lineGateLacks($0) } }
        var rec = LogRecord()
        decodeFailure = line.withUnsafeBytes { decoder.decode($0, into: &rec) }
        envelope = rec.envelope
        shape = rec.shape
        time = rec.time
        malformedTime = rec.malformedTime
        timeSource = rec.timeSource
        envelopeHost = rec.envelopeHost
        fields = Field.allCases.compactMap { f in rec.fields[f].map { (f.name, $0) } }
        subject = rec.withSubject { String(decoding: $0, as: UTF8.self) }
        trials = []
        outcome = .none
        rule = nil
        record = nil
        guard decodeFailure == nil else { return }
        let record = rec
        for rule in configuration.rules {
            let data = rule.regex.makeMatchData()
            let found = rule.literals.isEmpty || record.withSubject { rule.prefilter.admits($0) }
            var trial = RuleTrial(name: rule.name, kind: rule.kind, literals: rule.literals, literalFound: found,
                                  matched: nil, pattern: rule.regex.pattern, captures: [])
            if found {
                do {
                    trial.matched = try record.withSubject { try rule.regex.matches($0, with: data) }
                } catch {
                    trials.append(trial)
                    outcome = .limitExceeded(rule: trials.count - 1)
                    self.rule = rule.name
                    return
                }
                if trial.matched == true {
                    trial.captures = rule.regex.groupNames.compactMap { name, number in
                        data.range(ofGroup: number).map { r in
                            (name, record.withSubject { String(decoding: UnsafeRawBufferPointer(rebasing: $0[r]), as: UTF8.self) })
                        }
                    }
                }
            }
            trials.append(trial)
            if trial.matched == true { break }
        }
        let (outcome, found) = matcher.match(record, origin: Origin(input: 0, line: 1))
        self.outcome = outcome
        self.rule = outcome.rule.map { configuration.rules[$0].name }
        self.record = found
        if case .record(_, timeless: true) = outcome { self.record?.time = previousTime ?? readClock }
    }
}
