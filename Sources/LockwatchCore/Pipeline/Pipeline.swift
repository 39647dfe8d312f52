import CScan

/// Something that shows a run while it goes on.
public protocol PipelineObserver: AnyObject {
    /// The correlator's state, what was read, and the latest event time.
    func refresh(correlator: Correlator, counts: Summary.Counts, latest: EventTime?)
}

/// Wires the stages: inputs → merge → ordering → attempt pairing → correlator → sink.
///
/// The input stage hands on events (`InputEvent`) on this, the correlating, thread; the
/// pipeline passes each to the stage it concerns. What runs on wall time is decided by
/// `StateCheckpoint` (`--state`) and `MetricsSchedule`; the semantics of each stage are in
/// docs/semantics.md.
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
    /// Hosts that started or stopped lagging, named on stderr.
    private var lagNamed = 0
    /// `--shard`: which records are this shard's.
    private var shardFilter: ShardFilter?
    /// journald entries seen lately, so that an entry read twice counts once.
    private var seenEntries = SeenEntries()
    private var inputs: [CorrelationInput] = []
    private var alerts: [Alert] = []
    /// The run's metrics, when an exposition was asked for.
    public let metrics: LockMetrics?
    /// Where escalations go as Alertmanager alerts (`--alertmanager`), if anywhere.
    public var alertFeed: AlertFeed?
    /// The latest event time when the alert feed last saw it move, and the wall time then: a
    /// silent live input's event time runs on with the wall clock from there.
    private var feedMark: (at: EventTime, wall: EventTime)?
    /// How much of the inputs has been read (a progress display polls it).
    public let progress = ReadProgress()
    /// Told about once a second, and when a live input falls silent, where the run stands
    /// (the live view). Called on the correlating thread.
    public var observer: PipelineObserver?
    private var streams: [InputStream] = []
    private var metricsSchedule: MetricsSchedule
    /// Escalations fired, by reason (saved with the state, for the next run's metrics).
    private var escalationsByReason: [EscalationReason: Int] = [:]
    /// With `--state` (and one input): when the state is saved.
    private var checkpoint: StateCheckpoint?

    public init(configuration: Configuration, sink: Sink, environment: RunEnvironment = RunEnvironment()) {
        self.configuration = configuration
        self.sink = sink
        self.environment = environment
        self.reorderer = Reorderer(lateness: configuration.thresholds.maxLateness, hostLag: configuration.thresholds.hostLag)
        self.shardFilter = configuration.shard.map(ShardFilter.init)
        self.pairer = AttemptPairer(window: configuration.thresholds.pairWindow)
        self.correlator = Correlator(thresholds: configuration.thresholds, maxKeys: configuration.maxKeys)
        correlator.keepsClosedEpisodes = sink.wantsEpisodes
        self.metrics = configuration.metricsFile == nil && !configuration.metricsServed
            ? nil : LockMetrics(maxSeries: configuration.metricsMaxSeries)
        metricsSchedule = MetricsSchedule(fileInterval: configuration.metricsInterval)
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
        for s in streams {
            progress.add(size: s.reader.source.size)
            s.reader.progress = progress
        }
        self.streams = streams
        // The hosts of a regular file may come one after another: its records are held to the
        // end (`Reorderer.holding`). A stream, and an input continued with --state, is ordered
        // as it arrives.
        let holding = !sources.isEmpty && !sources.contains { $0.isStream } && configuration.stateFile == nil
        reorderer = Reorderer(lateness: configuration.thresholds.maxLateness, hostLag: configuration.thresholds.hostLag,
                              holding: holding, maxHeld: configuration.maxHeld)
        assignSyslogYears(streams)
        var stateErrors = 0
        if let path = configuration.stateFile {
            if streams.count == 1 {
                checkpoint = StateCheckpoint(path: path, interval: configuration.stateInterval)
                stateErrors = loadState(path)
            } else {
                environment.warn("--state follows one input; \(streams.count) were given, so no state is kept")
                stateErrors = 1
            }
        }
        pool.start(streams, workers: max(1, configuration.workers), configuration: configuration, environment: environment)
        defer { pool.stop() }
        var merger = Merger(streams: streams)
        var ended = false
        // A closed sink (stdout gone) ends the run before the next record is read; the input's
        // moments up to that record are still handled.
        var closedEnds = true
        while !(closedEnds && sink.isClosed) {
            guard let event = merger.next() else { ended = true; break }
            closedEnds = false
            switch event {
            case .record(let r):
                accept(r)
                closedEnds = true
            case .progress(let host, let time):
                reorderer.observe(host: host, at: time, into: &released)
                if !reorderer.lagChanges.isEmpty { reportLag() }
            case .boundary:
                // What ordering released goes on at each chunk boundary, before the input can
                // wait: a live pipe's events are never held back by the batching in `accept`.
                drainReleased()
                saveIfDue(waiting: false)
            case .waiting:
                if checkpoint != nil { saveIfDue(waiting: true) } else { sink.flush() }
            case .idle(let silence):
                inputIdle(silence)
            }
        }
        pool.stop()
        if checkpoint != nil {
            // What ordering and pairing hold, and episodes not yet quiet, belong to the input's
            // continuation: they go into the state instead of being decided now.
            if ended { saveState() }
        } else {
            flushHeld()
            sink.flush()
            correlator.finish(at: lastAt)
        }
        if sink.wantsEpisodes {
            passClosedEpisodes()
            for e in correlator.openEpisodes(at: lastAt ?? EventTime(micros: 0)) { sink.episode(e) }
        }
        // The summary of many keys is large: the buffers of the run and the heap they held go
        // back first.
        reorderer.releaseEmptyQueues()
        released = []
        inputs = []
        lw_release_free_memory()
        var counts = streamCounts()
        counts.inputErrors += openFailures + stateErrors + (checkpoint?.failed == true ? 1 : 0)
        counts.late = reorderer.late
        counts.lateAfterFlush = reorderer.lateAfterFlush
        counts.laggingHosts = reorderer.hosts.filter { $0.late > 0 || $0.lagging }.count
        if reorderer.overflowed, counts.late > 0 {
            environment.warn("more than \(configuration.maxHeld) lock records were held to merge the hosts of the files; the rest were ordered as a live stream is")
        }
        let exit = ExitStatus.of(escalations: correlator.escalations, inputErrors: counts.inputErrors)
        let summary = correlator.summary(counts: counts, firstAt: firstAt, lastAt: lastAt, exit: exit)
        sink.finish(summary)
        refreshAlertFeed(final: true)
        finalMetrics(counts: summary.counts)
        if let checkpoint, ended, !checkpoint.failed { reportSaved(checkpoint.path) }
        self.streams = []
        return summary
    }

    /// Takes one lock record of the merged inputs: an entry read twice and another shard's
    /// record stop here; the rest go to ordering, and what ordering releases goes on.
    private func accept(_ r: LockRecord) {
        if let entry = r.entry, !seenEntries.insert(entry, at: r.time) {
            // Counted with its input, so that `--state` carries the count on.
            let input = streams[min(r.origin.input, streams.count - 1)]
            input.counts.duplicates += 1
            input.counts.matched -= 1
            input.nameLine(r.origin.line, "a journald entry read again (its __CURSOR came before); counted once")
            return
        }
        if shardFilter != nil, !shardFilter!.owns(r) {
            // Another shard's: it still says how far its host has come.
            streams[min(r.origin.input, streams.count - 1)].counts.otherShards += 1
            reorderer.observe(host: r.hostName, at: r.time, into: &released)
            return
        }
        firstAt = min(firstAt ?? r.time, r.time)
        lastAt = max(lastAt ?? r.time, r.time)
        checkpoint?.appliedSinceSave = true
        let (late, lateAfterFlush) = (reorderer.late, reorderer.lateAfterFlush)
        reorderer.push(r, into: &released)
        if !reorderer.lagChanges.isEmpty { reportLag() }
        if reorderer.late > late || reorderer.lateAfterFlush > lateAfterFlush {
            // Named, as other set-aside lines are.
            let why = reorderer.late == late ? "that came after a quiet input had released later ones"
                : reorderer.isLagging(r.hostName) ? "of lagging host \(r.host ?? "(none)") behind the release point"
                : "later than --max-lateness allows"
            streams[min(r.origin.input, streams.count - 1)].nameLine(r.origin.line, "a record \(why); handled out of order")
        }
        // Released records go on in batches: pairing, correlation and the sink each run over
        // many records with their code and tables in the caches.
        if released.count >= 1024 { drainReleased() }
        if metrics != nil || observer != nil || alertFeed != nil,
           metricsSchedule.recordApplied(every: observer == nil ? 4096 : 256) {
            metricsDue()
        }
    }

    /// Decides the year of each file's first syslog time before reading, so that the rotated
    /// files of one log form one timeline across New Year (`Rotation.initialYears`).
    private func assignSyslogYears(_ streams: [InputStream]) {
        guard configuration.inputFormat == .auto || configuration.inputFormat == .forced(.short) else { return }
        let decoder = RecordDecoder(format: configuration.inputFormat, timestamps: TimestampParser(zone: configuration.zone))
        var paths = streams.map { $0.reader.source.isStream || $0.name == "-" ? nil : $0.name }
        // Without `--year`, only the files of a rotated log need their first time looked up.
        if configuration.year == nil {
            let logs = paths.map { $0.map { Rotation.member($0).log } }
            paths = zip(paths, logs).map { path, log in log.flatMap { l in logs.filter { $0 == l }.count > 1 ? path : nil } }
        }
        guard paths.contains(where: { $0 != nil }) else { return }
        let stamps = paths.map { $0.flatMap { path in
            Self.head(of: path).flatMap { bytes in bytes.withUnsafeBytes { SyslogYear.firstStamp(in: $0, decoder: decoder) } }
        } }
        guard stamps.contains(where: { $0 != nil }) else { return }
        let years = Rotation.initialYears(paths: paths, firstStamps: stamps, given: configuration.year,
                                          latest: { s in streams[0].firstYear(s) })
        for k in streams.indices {
            if let y = years[k], let stamp = stamps[k] { streams[k].startYear(y, month: stamp.month) }
        }
    }

    /// The first 256 KiB of a file (decompressed), or nil when it cannot be read again.
    private static func head(of path: String) -> [UInt8]? {
        guard let source = try? openInput(path) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 256 << 10)
        var filled = 0
        while filled < bytes.count {
            let n = (try? bytes.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }) ?? 0
            if n == 0 { break }
            filled += n
        }
        return Array(bytes[..<filled])
    }

    // MARK: State (`--state`)

    /// Loads the state file, if there is one, and continues from it; returns the errors to
    /// count (an unusable file is set aside and the run starts afresh).
    private func loadState(_ path: String) -> Int {
        let state: SavedState
        do {
            guard let s = try StateFile.load(path) else {
                environment.warn("\(path): no state yet; starting afresh (it is saved as the input is read)")
                return 0
            }
            state = s
        } catch {
            let aside = StateFile.setAside(path)
            environment.warn("\(error); \(aside.map { "set aside as \($0); " } ?? "")starting afresh")
            return 1
        }
        correlator = Correlator(thresholds: configuration.thresholds, maxKeys: configuration.maxKeys, restoring: state.correlator)
        correlator.keepsClosedEpisodes = sink.wantsEpisodes
        reorderer.restore(state.reorderer)
        if let alerts = state.alerts { alertFeed?.restore(alerts) }
        pairer.restore(state.pairer)
        streams[0].restore(from: state)
        firstAt = state.firstAt.map { EventTime(micros: $0) }
        lastAt = state.lastAt.map { EventTime(micros: $0) }
        for (reason, n) in state.escalationsByReason {
            if let r = EscalationReason(rawValue: reason) { escalationsByReason[r] = n }
        }
        metrics?.restore(from: correlator, escalations: escalationsByReason)
        var message = "\(path): continuing from the state saved at \(state.savedAt): lines read \(state.lines), "
            + "open episodes \(state.openEpisodes), records held \(state.heldRecords)"
        if let cursor = state.cursor {
            message += "; the journal continues after its cursor: journalctl --after-cursor='\(cursor)' …"
        } else {
            message += "; the input should continue after line \(state.lines)"
        }
        environment.warn(message)
        return 0
    }

    /// At a chunk boundary, everything read so far has been applied: saves the state when
    /// `StateCheckpoint` says a save is due.
    private func saveIfDue(waiting: Bool) {
        guard let checkpoint else { return }
        let live = streams.first?.reader.source.isStream == true
        if checkpoint.isDue(now: environment.readClock(), waiting: waiting, live: live) { saveState() }
    }

    /// Saves the state and writes out the events it covers (`StateCheckpoint.save`).
    private func saveState() {
        guard checkpoint != nil, let input = streams.first else { return }
        let started = environment.readClock()
        let year = input.syslogYear
        var state = SavedState(
            version: SavedState.currentVersion, savedAt: started.rfc3339, input: input.name, cursor: input.cursor,
            lines: input.linesRead, counts: input.counts, firstAt: firstAt?.micros, lastAt: lastAt?.micros,
            syslogYear: year.year, syslogMonth: year.month,
            lastTime: input.lastTime?.time.micros, lastTimeStamp: input.lastTime?.stamp?.packed,
            escalationsByReason: Dictionary(uniqueKeysWithValues: escalationsByReason.map { ($0.key.rawValue, $0.value) }),
            reorderer: reorderer.saved, pairer: pairer.saved, correlator: correlator.saved)
        if let alertFeed, alertFeed.openCount > 0 { state.alerts = alertFeed.saved }
        checkpoint!.save(state, started: started, clock: environment.readClock, flush: { sink.flush() },
                         warn: environment.warn)
    }

    /// Tells where the state went and how the input continues.
    private func reportSaved(_ path: String) {
        guard let input = streams.first else { return }
        var message = "state saved to \(path): \(input.linesRead) lines read"
        if let cursor = input.cursor { message += ", journal cursor \(cursor)" }
        let held = reorderer.count + pairer.count
        if held > 0 { message += "; \(held) records held for ordering and pairing go on to the next run" }
        environment.warn(message)
    }

    /// A live input fell silent: what ordering holds for the hosts that have caught up is
    /// decided (for every host once it is `quiet`), and the events go out (with the state
    /// that covers them, when one is kept). A record waiting for its pairing partner waits on
    /// until the input has been silent for the pair window (`settled`): its partner may still
    /// arrive, and must pair as it would in a file.
    private func inputIdle(_ silence: Silence) {
        let released = flushHeld(ordering: silence, pairing: silence >= .settled ? .release : .wait)
        if let checkpoint, released || checkpoint.eventsSinceSave > 0 {
            // What the flush released changed the state: a run continuing from an older one
            // would still hold those records, and might decide them otherwise.
            saveState()
        } else if checkpoint != nil {
            saveIfDue(waiting: true)
        } else {
            sink.flush()
        }
        metricsDue(idle: true)
    }

    /// Brings the metrics up to date about once a second while records flow, and whenever a
    /// live input falls silent (for scrapes); writes the metrics file when its interval has
    /// passed (wall time, from the environment's clock).
    private func metricsDue(idle: Bool = false) {
        refreshAlertFeed()
        guard metrics != nil || observer != nil else { return }
        let now = environment.readClock()
        if metricsSchedule.refreshDue(now: now, idle: idle) {
            let counts = streamCounts()
            metrics?.refresh(from: correlator, counts: counts, now: lastAt)
            for (host, behind) in reorderer.lagging { metrics?.hostLag(host?.string ?? "", lagging: true, behind: behind) }
            observer?.refresh(correlator: correlator, counts: counts, latest: lastAt)
        }
        guard metrics != nil else { return }
        if configuration.metricsFile != nil, metricsSchedule.writeDue(now: now) { writeMetricsFile() }
    }

    /// Resolves and re-sends Alertmanager alerts. On a live input the event time goes on with
    /// the wall clock while the input is silent, so an episode goes quiet on a silent pipe too.
    private func refreshAlertFeed(final: Bool = false) {
        guard let alertFeed, let lastAt else { return }
        let wall = environment.readClock()
        // How far the input has come: its latest record, or any host's latest line.
        var now = max(lastAt, reorderer.latestTime ?? lastAt)
        if feedMark?.at != now || final {
            feedMark = (now, wall)
        } else if let mark = feedMark, streams.contains(where: { $0.reader.source.isStream }) {
            now = mark.at + (wall - mark.wall)
        }
        alertFeed.refresh(from: correlator, now: now, wall: wall)
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
        metricsSchedule.wrote(at: environment.readClock())
        do {
            try writeAtomically(metrics.exposition(), to: path)
        } catch {
            if metricsSchedule.writeFailedFirst() { environment.warn("\(error)") }
        }
    }

    /// Says on stderr, and in the metrics, which hosts started or stopped lagging (the first
    /// 20 changes are named; the summary counts the hosts that lagged).
    private func reportLag() {
        for c in reorderer.lagChanges {
            metrics?.hostLag(c.host?.string ?? "", lagging: c.lagging, behind: c.behind)
            guard lagNamed < 20 else { continue }
            lagNamed += 1
            let host = c.host?.string ?? "(records without a host)"
            let seconds = String(format: "%.1f", c.behind.seconds)
            if c.lagging {
                environment.warn("host \(host) is \(seconds) s behind \(c.leader?.string ?? "the leading host"), more than --host-lag \(configuration.thresholds.hostLag.seconds) s: it no longer holds the other hosts back, and its records behind them are counted late")
            } else {
                environment.warn("host \(host) caught up (\(seconds) s behind): it holds the other hosts back again")
            }
        }
        reorderer.lagChanges.removeAll()
    }

    /// What a flush does with the records waiting for a pairing partner.
    enum PairingFlush {
        /// They wait on (a live input just fell silent).
        case wait
        /// They go on alone; failed records handed on may still be joined (silent for the window).
        case release
        /// Everything goes and nothing more can pair (the end of the input).
        case end
    }

    /// Releases what ordering holds — everything at the end, as `Reorderer.idle` says when a
    /// live input fell silent — and what pairing holds as `pairing` says. Returns whether
    /// anything was released.
    @discardableResult
    func flushHeld(ordering silence: Silence? = nil, pairing: PairingFlush = .end) -> Bool {
        if let silence { reorderer.idle(silence, into: &released) } else { reorderer.flush(into: &released) }
        let held = !released.isEmpty
        drainReleased()
        var waiting: [CorrelationInput] = []
        switch pairing {
        case .wait: break
        case .release: waiting = pairer.releaseWaiting()
        case .end: waiting = pairer.flush()
        }
        inputs.append(contentsOf: waiting)
        correlate()
        return held || !waiting.isEmpty
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

    /// Hands the episodes closed so far to the sink (for reports).
    private func passClosedEpisodes() {
        guard !correlator.closedEpisodes.isEmpty else { return }
        for e in correlator.closedEpisodes { sink.episode(e) }
        correlator.closedEpisodes.removeAll(keepingCapacity: true)
    }

    /// Applies what pairing made final and hands the alerts to the sink. The sink is flushed
    /// whenever the pipeline waits for input, so a live pipe shows each event at once while a
    /// batch run writes in large blocks.
    private func correlate() {
        guard !inputs.isEmpty else { return }
        for input in inputs {
            if let metrics {
                switch input {
                case .attempt(let a): metrics.attempt(a)
                case .joined: metrics.joinedSkip()
                default: break
                }
            }
            correlator.apply(input, into: &alerts)
        }
        inputs.removeAll(keepingCapacity: true)
        passClosedEpisodes()
        guard !alerts.isEmpty else { return }
        for alert in alerts {
            if case .escalation(let e) = alert { escalationsByReason[e.reason, default: 0] += 1 }
            metrics?.alert(alert)
            alertFeed?.alert(alert)
            sink.emit(alert)
        }
        checkpoint?.eventsSinceSave += alerts.count
        alerts.removeAll(keepingCapacity: true)
    }
}
