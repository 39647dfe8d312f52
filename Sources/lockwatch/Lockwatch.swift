// The lockwatch command: argument parsing only; the work is LockwatchCore's.

import ArgumentParser
import Foundation
import LockwatchCore

@main
struct Lockwatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockwatch",
        abstract: "Find ENTRY lock contention in trading-worker logs, the way the on-call runbook describes it.",
        discussion: """
            Reads standard input or the files named (- is stdin; .gz files are read as such); several \
            inputs are merged by event time. Exit status: 0 no escalation, 1 at least one escalation, \
            2 an error (an unreadable input, bad usage); 2 wins over 1.

            Examples:
              journalctl -f -o json -u trading-worker | lockwatch
              lockwatch /var/log/worker/*.log* --format json > audit.ndjson

            All options: lockwatch scan --help
            """,
        version: "0.1.0",
        subcommands: [Scan.self, RulesCommand.self, TestCommand.self, Explain.self],
        defaultSubcommand: Scan.self
    )

    /// Runs the command; bad usage exits 2, as the spec's exit statuses say (not sysexits' 64).
    static func main() {
        do {
            var arguments = Array(CommandLine.arguments.dropFirst())
            let others = ["rules", "test", "explain", "help", "-h", "--help", "--version", "--generate-completion-script"]
            if arguments.first == "scan" {
                arguments = ["scan"] + (try configured(Array(arguments.dropFirst())))
            } else if !others.contains(arguments.first ?? "") {
                arguments = try configured(arguments)
            }
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.error)
            }
            exit(withError: error)
        }
    }
}

/// The scan command's arguments after the config file and the environment (flags win).
private func configured(_ args: [String]) throws -> [String] {
    do {
        return try ConfigLayers.apply(args, environment: ProcessInfo.processInfo.environment)
    } catch {
        Terminal.warn("\(error)")
        throw ExitCode(ExitStatus.error)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension TextEvents: ExpressibleByArgument {}

/// `--summary`: how many profiles (and escalations, holders, hosts) the text summary lists in full.
enum SummaryLength: ExpressibleByArgument, CustomStringConvertible {
    case first(Int)
    case full

    init?(argument: String) {
        if argument == "full" { self = .full } else if let n = Int(argument), n > 0 { self = .first(n) } else { return nil }
    }

    var limit: Int? { if case .first(let n) = self { n } else { nil } }
    var description: String { limit.map(String.init) ?? "full" }
    static var allValueStrings: [String] { [] }
}

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

struct Scan: ParsableCommand {
    // Names given, not derived from the type's name at every start (the parser demangles it).
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Analyse logs for ENTRY lock contention (the default command).")

    @OptionGroup var analysis: AnalysisOptions
    var input: InputOptions { analysis.input }
    var recognition: RecognitionOptions { analysis.recognition }

    @Option(help: "Output: text (one line per event, then a summary) or json (NDJSON).")
    var format: OutputFormat = .text

    @OptionGroup var colour: ColorOptions

    @Option(help: "Text output: the events printed as lines, all or notable (escalations, a multi_profile one only once one of its profiles is seen to last and not when it repeats an earlier one; stuck owners; unhealthy loops; recoveries after more than one TTL or of a key that escalated by its own rule; the summary counts the rest). Default: all when an input is live (a pipe or terminal), notable when every input is a file.")
    var events: TextEvents?

    @Option(help: ArgumentHelp("Text summary: the lock keys listed in full, escalated first, then open beyond one TTL, then by longest contention (and at most as many escalations and hosts, and 5 holders); the rest as one line of totals. A number, or full.", valueName: "N|full"))
    var summary: SummaryLength = .first(TextPrinter.defaultLimit)

    @Option(help: "Write the Prometheus metrics to this file, atomically, every --metrics-interval and at the end (for node_exporter's textfile collector).")
    var metricsFile: String?

    @Option(help: "Serve GET /metrics (Prometheus text format) and GET /healthz over HTTP on [HOST]:PORT (no host: 127.0.0.1; port 0 picks one).")
    var metricsListen: ListenAddress?

    @Option(help: ArgumentHelp("Post each escalation to this Alertmanager (API v2) as an alert, re-sent while its episode is open and resolved when it recovers or goes quiet; repeat for every Alertmanager of a cluster.", valueName: "http://HOST:PORT"))
    var alertmanager: [AlertmanagerURL] = []

    @Option(help: ArgumentHelp("Correlate only the profiles of shard K of N (a stable hash of the profile id), so that N collectors split a large fleet; health reports go to shard 1.", valueName: "K/N"))
    var shard: Shard?

    @Option(help: "How often open alerts are sent to Alertmanager again (wall time; below its resolve_timeout).")
    var alertmanagerResend: DurationArgument = DurationArgument(argument: "60s")!

    @Option(help: "How often the metrics file is rewritten.")
    var metricsInterval: DurationArgument = DurationArgument(argument: "15s")!

    @Option(help: "Lock keys with metric series of their own at most; beyond, their series are dropped and counted.")
    var metricsMaxSeries: Int = 10_000

    @Option(help: ArgumentHelp("Continue from the state in FILE and keep it there: open episodes, counters, and the journald cursor of the last line read, saved with each batch of events, every --state-interval and at the end (one input only).", valueName: "FILE"))
    var state: String?

    @Option(help: "How often the state is saved when no event forces it.")
    var stateInterval: DurationArgument = DurationArgument(argument: "5s")!

    @Flag(inversion: .prefixedNo, help: "A screen refreshed about once a second: open episodes, escalations, the last events; q quits with the summary. Default: on when stdout is a terminal and the input a pipe (with text output).")
    var live: Bool?

    @Option(help: ArgumentHelp("Write an incident report: FILE.html (self-contained, with an SVG timeline) or FILE.md (Markdown, for a ticket). May be given more than once.", valueName: "FILE"))
    var report: [String] = []

    @Option(help: ArgumentHelp("Settings from a YAML file (`ttl: 45s`, `metrics-listen: \":9464\"`, … any option of this command); LOCKWATCH_TTL and the like win over it, and flags over both. Also LOCKWATCH_CONFIG.", valueName: "FILE"))
    var config: String?

    @Flag(help: "Print every setting, its value and where it came from (default, config file, environment, flag), and exit.")
    var printConfig = false

    @Flag(help: "Print the journalctl options that resume the journal where the --state file stopped (--after-cursor=…, or --since=now without a cursor), and exit.")
    var journalctlArgs = false

    func validate() throws {
        if state != nil, input.inputs.count > 1 {
            throw ValidationError("--state follows one input (a journal stream); \(input.inputs.count) were given")
        }
        if journalctlArgs, state == nil { throw ValidationError("--journalctl-args needs --state") }
    }

    /// The one configuration value this command hands to the pipeline.
    /// - Throws: `YAMLFileError` when `--rules` cannot be used.
    func makeConfiguration() throws -> Configuration {
        var configuration = try analysis.makeConfiguration()
        configuration.metricsFile = metricsFile
        configuration.metricsServed = metricsListen != nil
        configuration.shard = shard
        configuration.metricsInterval = metricsInterval.span
        configuration.metricsMaxSeries = metricsMaxSeries
        configuration.stateFile = state
        configuration.stateInterval = stateInterval.span
        return configuration
    }

    func run() throws {
        if printConfig {
            print(ConfigLayers.describe(), terminator: "")
            return
        }
        signal(SIGPIPE, SIG_IGN)
        StopSignal.install()
        let configuration: Configuration
        do {
            configuration = try makeConfiguration()
        } catch {
            Terminal.warn("\(error)")
            throw ExitCode(ExitStatus.error)
        }
        if journalctlArgs, let state {
            do {
                print(try JournalResume.arguments(state: state).joined(separator: " "))
            } catch {
                // The run that follows sets an unusable state aside and starts afresh: the
                // journal starts from now too, rather than replaying (and paging) all of it.
                print("--since=now")
                Terminal.warn("\(error); the journal continues from now")
                throw ExitCode(ExitStatus.error)
            }
            return
        }
        let out = FileDescriptorWriter(fd: 1)
        // With a state, events go out together with the state that covers them.
        if state != nil { out.flushThreshold = .max }
        let names = input.inputs.isEmpty ? ["-"] : input.inputs
        let (sink, liveView, reports) = sinks(out, inputs: names, ttl: configuration.thresholds.ttl, lanes: configuration.workers)
        let environment = RunEnvironment(
            readClock: { EventTime(seconds: Date().timeIntervalSince1970) },
            currentYear: Foundation.Calendar(identifier: .gregorian).component(.year, from: Date()),
            now: EventTime(seconds: Date().timeIntervalSince1970),
            idleFlushMilliseconds: Int32(max(1, input.idleFlush.span.micros / 1000)),
            warn: { Terminal.warn($0) })
        let pipeline = Pipeline(configuration: configuration, sink: sink, environment: environment)
        let alertmanagerClient = alertmanager.isEmpty ? nil
            : AlertmanagerClient(urls: alertmanager, metrics: pipeline.metrics, warn: { Terminal.warn($0) })
        if let alertmanagerClient {
            pipeline.alertFeed = AlertFeed(thresholds: configuration.thresholds, resendInterval: alertmanagerResend.span,
                                           extraLabels: shard.map { ["shard": $0.description] } ?? [:],
                                           deliver: { alertmanagerClient.post($0) })
        }
        var server: MetricsServer? = nil
        if let listen = metricsListen, let metrics = pipeline.metrics {
            do {
                server = try MetricsServer(listen, metrics: metrics)
                Terminal.warn("metrics on http://\(server!.address)/metrics")
            } catch {
                Terminal.warn("--metrics-listen \(listen.host):\(listen.port): \(error)")
                throw ExitCode(ExitStatus.error)
            }
        }
        var keys: LiveKeys? = nil
        if let liveView {
            pipeline.observer = liveView
            keys = LiveKeys.start()
            liveView.start()
        }
        let progress = liveView == nil ? ProgressLine.start(pipeline.progress) : nil
        let summary = pipeline.run(inputs: names)
        progress?.stop()
        keys?.restore()
        alertmanagerClient?.finish()
        server?.stop()
        if out.isClosed { throw ExitCode(ExitStatus.clean) }
        if StopSignal.received != 0 && StopSignal.received != StopSignal.requested {
            Terminal.warn("stopped by \(StopSignal.received == SIGINT ? "SIGINT" : "SIGTERM") before the end of the input; the summary covers what was read")
        }
        Terminal.notes(for: summary.counts)
        if let reports {
            for e in reports.errors { Terminal.warn(e) }
            if !reports.errors.isEmpty { throw ExitCode(ExitStatus.error) }
        }
        throw ExitCode(summary.exit)
    }

    private var useColor: Bool { colour.enabled }

    /// The text printer of `--events` and `--summary`; without `--events`, a batch run (every
    /// input a file) prints the notable events and a live one all of them.
    func textPrinter(_ out: ByteSink, color: Bool, ttl: TimeSpan, batch: Bool) -> TextPrinter {
        TextPrinter(out: out, color: color, ttl: ttl, events: events ?? TextPrinter.defaultEvents(batch: batch), limit: summary.limit)
    }

    /// Whether every input is a regular file (a batch run), not a pipe, terminal or socket
    /// (a live one). An input that cannot be examined counts as a file: opening it reports it.
    static func allFiles(_ inputs: [String]) -> Bool {
        inputs.allSatisfy { name in
            var st = stat()
            let ok = name == "-" ? fstat(0, &st) == 0 : stat(name, &st) == 0
            return !ok || (st.st_mode & S_IFMT) == S_IFREG
        }
    }

    /// Where the run's results go: the printer in the chosen format — or the live view, which
    /// prints only the summary, at the end — and the reports asked for.
    private func sinks(_ out: FileDescriptorWriter, inputs: [String], ttl: TimeSpan, lanes: Int) -> (Sink, LiveView?, ReportSink?) {
        let color = useColor
        let batch = Self.allFiles(inputs)
        let makePrinter: (ByteSink) -> Sink = { [self] sink in
            format == .json ? JSONPrinter(out: sink, lanes: lanes) as Sink : textPrinter(sink, color: color, ttl: ttl, batch: batch)
        }
        let showLive = live ?? (isatty(1) == 1 && LiveKeys.stdinIsPipe && inputs == ["-"] && format == .text)
        let liveView = showLive ? LiveView(out: out, color: color, ttl: ttl, size: LiveKeys.size, makePrinter: makePrinter) : nil
        let printer: Sink = liveView ?? makePrinter(out)
        let reports = report.isEmpty ? nil : ReportSink(paths: report, inputs: inputs, ttl: ttl)
        return (reports.map { TeeSink([printer, $0]) } ?? printer, liveView, reports)
    }
}

/// `--color`, for every command that writes for people.
struct ColorOptions: ParsableArguments {
    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set or TERM is dumb), always, never.")
    var color: ColorChoice = .auto

    /// Whether to colour what goes to standard output.
    var enabled: Bool {
        switch color {
        case .always: return true
        case .never: return false
        case .auto:
            let env = ProcessInfo.processInfo.environment
            return isatty(1) == 1 && env["NO_COLOR"].map(\.isEmpty) ?? true && env["TERM"] != "dumb"
        }
    }

    /// `s` in the SGR colour `code` when colour is on.
    func paint(_ s: String, _ code: String) -> String { TextPrinter.paint(s, code, when: enabled) }
}

/// What the command says on stderr.
enum Terminal {
    static func warn(_ message: String) {
        let clear = ProgressLine.active.load(ordering: .relaxed) ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data("\(clear)lockwatch: \(message)\n".utf8))
    }

    /// Reports what was set aside, so that nothing is lost silently.
    static func notes(for c: Summary.Counts) {
        let items: [(Int, String, String)] = [
            (c.unparsed, "lock-like lines could not be decoded (unparsed)", "lock-like line could not be decoded (unparsed)"),
            (c.noProfile, "lock lines carried no profile id and are not records", "lock line carried no profile id and is not a record"),
            (c.truncated, "lines were longer than --max-line-bytes and were cut", "line was longer than --max-line-bytes and was cut"),
            (c.late, "records arrived later than --max-lateness allows within their host, or behind the other hosts from a host more than --host-lag behind, and were handled out of order", "record arrived later than --max-lateness allows within its host, or behind the other hosts from a host more than --host-lag behind, and was handled out of order"),
            (c.laggingHosts, "hosts fell more than --host-lag behind the others or had records handled out of order", "host fell more than --host-lag behind the others or had records handled out of order"),
            (c.otherShards, "records belong to profiles of other shards (--shard) and were not correlated here", "record belongs to a profile of another shard (--shard) and was not correlated here"),
            (c.lateAfterFlush, "records arrived out of order after the input had gone quiet and the later ones had gone on (--idle-flush); they were handled out of order — a longer --idle-flush waits for them", "record arrived out of order after the input had gone quiet and the later ones had gone on (--idle-flush); it was handled out of order — a longer --idle-flush waits for such records"),
            (c.timeless, "records had no time of their own and no timed line before them on a live input, and were stamped with the moment they were read", "record had no time of its own and no timed line before it on a live input, and was stamped with the moment it was read"),
            (c.untimed, "records had no time of their own and no timed line before them, and were set aside", "record had no time of its own and no timed line before it, and was set aside"),
            (c.limitExceeded, "lines hit the PCRE2 match limit", "line hit the PCRE2 match limit"),
            (c.duplicates, "journald entries were read again (the same __CURSOR) and counted once", "journald entry was read again (the same __CURSOR) and counted once"),
            (c.malformedTimes, "lock lines started with a date and time that is none (e.g. month 13), and took the last timed line's time", "lock line started with a date and time that is none (e.g. month 13), and took the last timed line's time"),
            (c.evictedKeys, "lock keys were evicted to stay within --max-keys; their counts are not in the summary", "lock key was evicted to stay within --max-keys; its counts are not in the summary"),
        ]
        for (n, many, one) in items where n > 0 { warn("note: \(n) \(n == 1 ? one : many)") }
    }
}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
