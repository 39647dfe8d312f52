// The flags that make a `Configuration`: the one definition of how a run is configured from
// its command line, for the command and for tests that run the library without it.

import ArgumentParser
import Foundation

/// Duration flags: `30s`, `1.5s`, `500ms`, `2m`, or plain seconds.
public struct DurationArgument: ExpressibleByArgument, Sendable {
    public let span: TimeSpan
    public let text: String

    public var defaultValueDescription: String { text }

    public init?(argument: String) {
        text = argument
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where argument.hasSuffix(suffix) {
            guard let v = Double(argument.dropLast(suffix.count)), v >= 0 else { return nil }
            span = .seconds(v * scale)
            return
        }
        guard let v = Double(argument), v >= 0 else { return nil }
        span = .seconds(v)
    }
}

/// `--tz` values: `UTC`, `+02:00`, `-0500`, or an IANA zone name.
extension ZoneRule: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String {
        switch self {
        case .fixed(let s) where s == 0: "UTC"
        case .fixed(let s): "\(s >= 0 ? "+" : "-")\(abs(s) / 3600):\(abs(s) / 60 % 60)"
        case .named(let zone): zone.identifier
        }
    }
}

extension InputFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String {
        switch self {
        case .auto: "auto"
        case .forced(let e): e.rawValue
        }
    }
    public static var allValueStrings: [String] { ["auto"] + Envelope.allCases.map(\.rawValue) }
}

/// The thresholds of docs/semantics.md ("Episodes, escalations, notices"), each a flag with its default.
public struct ThresholdOptions: ParsableArguments {
    public init() {}

    @Option(help: "The lock row's TTL.")
    public var ttl: DurationArgument = DurationArgument(argument: "30s")!

    @Option(help: "TTL cycles of contention before escalating (persistent).")
    public var escalateAfter: Int = 3

    @Option(help: "Distinct profiles contended at once that escalate (multi_profile).")
    public var multiProfile: Int = 2

    @Option(help: "How far past its expiry a lock may still block before it is stale (stale_lock).")
    public var staleGrace: DurationArgument = DurationArgument(argument: "2s")!

    @Option(help: "A warning and a failed record this close are one attempt.")
    public var pairWindow: DurationArgument = DurationArgument(argument: "1s")!

    @Option(help: "Silence after which an episode closes as quiet (default: 3 × TTL).")
    public var episodeGap: DurationArgument?

    @Option(help: "How out of order records of one host may arrive.")
    public var maxLateness: DurationArgument = DurationArgument(argument: "2s")!

    @Option(help: ArgumentHelp("How far one host's records may trail the leading host's and still hold the others back; on a silent live input, how long records wait for a host that is behind.", valueName: "duration"))
    public var hostLag: DurationArgument = DurationArgument(argument: "10s")!

    public func validate() throws {
        guard escalateAfter >= 1 else { throw ValidationError("--escalate-after must be at least 1") }
        guard multiProfile >= 1 else { throw ValidationError("--multi-profile must be at least 1") }
        guard ttl.span.micros > 0 else { throw ValidationError("--ttl must be more than 0") }
    }

    public var thresholds: Thresholds {
        var t = Thresholds()
        t.ttl = ttl.span
        t.escalateAfter = escalateAfter
        t.multiProfile = multiProfile
        t.staleGrace = staleGrace.span
        t.pairWindow = pairWindow.span
        t.episodeGapOverride = episodeGap?.span
        t.maxLateness = maxLateness.span
        t.hostLag = hostLag.span
        return t
    }
}

/// How a line is recognised: its envelope, its times, the rules.
public struct RecognitionOptions: ParsableArguments {
    public init() {}

    @Option(help: "Envelope of every line: auto (detect per line), journald-json, short-iso, short, short-unix, cri, docker, plain.")
    public var inputFormat: InputFormat = .auto

    @Option(help: "Zone of timestamps that have none: UTC, +02:00, or an IANA name.")
    public var tz: ZoneRule = .utc

    @Option(help: "Year of the first syslog timestamp, which has none; later ones count on across New Year (default: inferred).")
    public var year: Int?

    public func validate() throws {
        if let year, !(1...9999).contains(year) { throw ValidationError("--year must be a year from 1 to 9999") }
    }

    @Option(help: ArgumentHelp("Recognition rules of your own (YAML), tried before the built-in ones (see `lockwatch rules show`).", valueName: "FILE"))
    public var rules: String?

    /// Puts these choices into a configuration; loads the rules file.
    /// - Throws: `YAMLFileError`.
    public func apply(to configuration: inout Configuration) throws -> RulesFile? {
        configuration.inputFormat = inputFormat
        configuration.zone = tz
        configuration.year = year
        guard let rules else { return nil }
        let file = try RulesFile.load(rules)
        configuration.rules = file.effectiveRules
        return file
    }
}

/// How inputs are read.
public struct InputOptions: ParsableArguments {
    public init() {}

    @Argument(help: "Log files to read (- is stdin; .gz is read as gzip). Default: stdin.")
    public var inputs: [String] = []

    @Option(help: "Lines longer than this are cut; the prefix is still analysed.")
    public var maxLineBytes: Int = 1 << 20

    @Option(help: "A live pipe releases what ordering holds after this much silence (a line that then comes with an earlier time is handled late; a longer wait catches it).")
    public var idleFlush: DurationArgument = DurationArgument(argument: "10ms")!

    @Option(help: "Lock keys (profile and symbol) tracked at most; beyond, closed and quiet episodes are evicted first, and the evictions counted in the summary.")
    public var maxKeys: Int = 100_000

    @Option(name: [.customShort("j"), .customLong("threads")], help: "Threads that read, decode and match; at the end, that format the JSON summary (the default is this machine's number of cores).")
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    public func validate() throws {
        guard maxLineBytes >= 64 else { throw ValidationError("--max-line-bytes must be at least 64") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard maxKeys >= 1 else { throw ValidationError("--max-keys must be at least 1") }
    }
}

/// Every flag that shapes what a run decides: how inputs are read, how lines are recognised,
/// the thresholds. The command adds its outputs (format, metrics, state) to these.
public struct AnalysisOptions: ParsableArguments {
    public init() {}

    @OptionGroup public var input: InputOptions
    @OptionGroup public var recognition: RecognitionOptions
    @OptionGroup(title: "Thresholds") public var thresholds: ThresholdOptions

    /// The configuration these flags describe; loads the rules file.
    /// - Throws: `YAMLFileError` when `--rules` cannot be used.
    public func makeConfiguration() throws -> Configuration {
        var configuration = Configuration()
        configuration.thresholds = thresholds.thresholds
        _ = try recognition.apply(to: &configuration)
        configuration.maxLineBytes = input.maxLineBytes
        configuration.workers = input.threads
        configuration.maxKeys = input.maxKeys
        return configuration
    }
}
