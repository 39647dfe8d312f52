// One fuzz input is a log: every line goes through decoding, matching, pairing and the
// correlator (with a tiny --max-keys, so that eviction runs too), and every event and the
// summary through both printers and both report formats; the first lines are also
// explained as `lockwatch explain` does. The whole pipeline then runs over it twice, with
// and without the workers' plain lane, and must print the same. Any crash, hang, sanitizer
// report or difference is a finding.

import LockwatchCore

nonisolated(unsafe) private let matcher = Matcher(rules: DefaultRules.rules(), timestamps: TimestampParser())
private let decoder = RecordDecoder(year: 2026)
private let configuration = Configuration()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var thresholds = Thresholds()
    thresholds.ttl = .seconds(2)
    var pairer = AttemptPairer(window: .seconds(1))
    var correlator = Correlator(thresholds: thresholds, maxKeys: 4)
    correlator.keepsClosedEpisodes = true
    let text = TextPrinter(out: MemorySink(), color: true)
    let report = ReportSink(paths: [], inputs: ["fuzz"])
    var alerts: [Alert] = []
    var start = 0, number = 0
    var first: EventTime?, last: EventTime?
    for i in 0...size where i == size || bytes[i] == 0x0A {
        let line = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
        start = i + 1
        number += 1
        if number <= 4 { _ = Explanation(line: Array(line), configuration: configuration) }
        guard case .success(let record) = decoder.decode(line),
              case .record(let r, _) = matcher.match(record, origin: Origin(input: 0, line: number)) else { continue }
        first = min(first ?? r.time, r.time)
        last = max(last ?? r.time, r.time)
        for input in pairer.push(r) { correlator.apply(input, into: &alerts) }
    }
    for input in pairer.flush() { correlator.apply(input, into: &alerts) }
    correlator.finish(at: last)
    for alert in alerts {
        _ = JSONPrinter.line(alert)
        text.emit(alert)
        report.emit(alert)
    }
    for e in correlator.closedEpisodes + correlator.openEpisodes(at: last ?? EventTime(micros: 0)) { report.episode(e) }
    let summary = correlator.summary(counts: .init(), firstAt: first, lastAt: last, exit: 0)
    _ = JSONPrinter.summaryLine(summary)
    text.finish(summary)
    _ = report.render(summary, as: .html)
    _ = report.render(summary, as: .markdown)
    if pipelineOutput(bytes, fast: true) != pipelineOutput(bytes, fast: false) {
        fatalError("the fast paths (plain lane, rule shortcuts) and the general decoder and matcher disagree on this input")
    }
    return 0
}

/// The NDJSON output of a whole run over `bytes`, with or without the plain lane and the
/// rules' shortcuts.
private func pipelineOutput(_ bytes: UnsafeRawBufferPointer, fast: Bool) -> [UInt8] {
    var configuration = Configuration()
    configuration.plainLane = fast
    configuration.ruleShortcuts = fast
    configuration.workers = 1
    let out = MemorySink()
    _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: out))
        .run(sources: [MemorySource(Array(bytes), name: "fuzz")])
    return out.bytes
}

// SwiftPM links an executable target's entry point as `<target>_main`; with
// -parse-as-library there is none, so this one hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("lockwatch_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv) { fuzz($0, $1) }
}
