import CScan

/// Wires the stages: inputs → merge → watermark → attempt pairing → correlator → sink.
///
///     let pipeline = Pipeline(configuration: Configuration(), sink: JSONPrinter(out: MemorySink()))
///     let summary = pipeline.run(sources: [try openInput("incident.log")])
public final class Pipeline {
    public let configuration: Configuration
    let sink: Sink
    let environment: RunEnvironment
    private var reorderer: Reorderer
    private var pairer: AttemptPairer
    private var correlator: Correlator
    private var firstAt: EventTime?
    private var lastAt: EventTime?
    private var released: [LockRecord] = []
    private var inputs: [CorrelationInput] = []
    private var alerts: [Alert] = []
    /// The run's metrics, when an exposition was asked for.
    public let metrics: LockMetrics?
    private var streams: [InputStream] = []
    private var lastMetricsWrite: EventTime?
    private var lastMetricsRefresh: EventTime?
    private var metricsWriteFailed = false
    private var recordsSinceClock = 0

    public init(configuration: Configuration, sink: Sink, environment: RunEnvironment = RunEnvironment()) {
        self.configuration = configuration
        self.sink = sink
        self.environment = environment
        self.reorderer = Reorderer(lateness: configuration.thresholds.maxLateness)
        self.pairer = AttemptPairer(window: configuration.thresholds.pairWindow)
        self.correlator = Correlator(thresholds: configuration.thresholds, maxKeys: configuration.maxKeys)
        self.metrics = configuration.metricsFile == nil && !configuration.metricsServed
            ? nil : LockMetrics(maxSeries: configuration.metricsMaxSeries)
    }

    /// Opens the named inputs (`-` is stdin) and runs; inputs that cannot be opened are
    /// reported through the environment's `warn`, counted, and the others still read.
    public func run(inputs: [String]) -> Summary {
        var sources: [ByteSource] = []
        var failed = 0
        for name in inputs {
            do { sources.append(try openInput(name)) } catch {
                environment.warn("\(error)")
                failed += 1
            }
        }
        return run(sources: sources, openFailures: failed)
    }

    /// Runs over already opened sources, to the end of all of them, and returns the summary
    /// (also handed to the sink).
    public func run(sources: [ByteSource], openFailures: Int = 0) -> Summary {
        let pool = ScanPool()
        let streams = sources.enumerated().map { k, s in
            InputStream(index: k, source: s, pool: pool, configuration: configuration, environment: environment)
        }
        self.streams = streams
        for s in streams {
            s.onIdle = { [unowned self] in self.flushHeld(); self.metricsDue(idle: true) }
            s.beforeWait = { [unowned self] in self.sink.flush() }
        }
        pool.start(streams, workers: max(1, configuration.workers), configuration: configuration, environment: environment)
        defer { pool.stop() }
        var merger = Merger(streams: streams)
        while !sink.isClosed, let r = merger.next() {
            firstAt = min(firstAt ?? r.time, r.time)
            lastAt = max(lastAt ?? r.time, r.time)
            reorderer.push(r, into: &released)
            drainReleased()
            recordsSinceClock += 1
            if recordsSinceClock >= 4096, metrics != nil {
                recordsSinceClock = 0
                metricsDue()
            }
        }
        for s in streams { s.onIdle = nil; s.beforeWait = nil }
        pool.stop()
        flushHeld()
        correlator.finish(at: lastAt)
        // The summary of many keys is large: the heap freed by the run goes back first.
        lw_release_free_memory()
        var counts = streamCounts()
        counts.inputErrors += openFailures
        counts.late = reorderer.late
        let exit = ExitStatus.of(escalations: correlator.escalations, inputErrors: counts.inputErrors)
        let summary = correlator.summary(counts: counts, firstAt: firstAt, lastAt: lastAt, exit: exit)
        sink.finish(summary)
        finalMetrics(counts: summary.counts)
        self.streams = []
        return summary
    }

    /// Brings the metrics up to date about once a second while records flow, and whenever a
    /// live input falls silent (for scrapes); writes the metrics file when its interval has
    /// passed (wall time, from the environment's clock).
    private func metricsDue(idle: Bool = false) {
        guard let metrics else { return }
        let now = environment.readClock()
        if idle || lastMetricsRefresh.map({ now - $0 >= .seconds(1) }) ?? true {
            lastMetricsRefresh = now
            metrics.refresh(from: correlator, counts: streamCounts(), now: lastAt)
        }
        if configuration.metricsFile != nil, lastMetricsWrite.map({ now - $0 >= configuration.metricsInterval }) ?? true {
            writeMetricsFile()
        }
    }

    /// What the inputs have counted so far.
    private func streamCounts() -> Summary.Counts {
        var counts = Summary.Counts()
        for s in streams { counts.add(s.counts) }
        return counts
    }

    /// The final metrics, at the end of the run.
    private func finalMetrics(counts: Summary.Counts) {
        metrics?.refresh(from: correlator, counts: counts, now: lastAt)
        writeMetricsFile()
    }

    /// Writes the exposition to the metrics file, atomically.
    private func writeMetricsFile() {
        guard let metrics, let path = configuration.metricsFile else { return }
        lastMetricsWrite = environment.readClock()
        do {
            try writeAtomically(metrics.exposition(), to: path)
        } catch {
            if !metricsWriteFailed { environment.warn("\(error)") }
            metricsWriteFailed = true
        }
    }

    /// Releases everything held for ordering and pairing: at the end, or when a live input is idle.
    func flushHeld() {
        reorderer.flush(into: &released)
        drainReleased()
        inputs.append(contentsOf: pairer.flush())
        correlate()
        sink.flush()
    }

    private func drainReleased() {
        guard !released.isEmpty else { return }
        for r in released {
            metrics?.record(r)
            pairer.push(r, into: &inputs)
        }
        released.removeAll(keepingCapacity: true)
        correlate()
    }

    /// Applies what pairing made final and hands the alerts to the sink. The sink is flushed
    /// whenever the pipeline waits for input, so a live pipe shows each event at once while a
    /// batch run writes in large blocks.
    private func correlate() {
        guard !inputs.isEmpty else { return }
        for input in inputs {
            if let metrics, case .attempt(let a) = input { metrics.attempt(a) }
            correlator.apply(input, into: &alerts)
        }
        inputs.removeAll(keepingCapacity: true)
        guard !alerts.isEmpty else { return }
        for alert in alerts {
            metrics?.alert(alert)
            sink.emit(alert)
        }
        alerts.removeAll(keepingCapacity: true)
    }
}
