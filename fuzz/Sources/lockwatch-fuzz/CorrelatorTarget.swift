import Foundation
@testable import LockwatchCore

/// Lock records built from the bytes, through ordering, pairing and the correlator; the same
/// run cut where the bytes say, saved as `--state` saves it (JSON and back) and continued,
/// must decide the same events and summary.
enum CorrelatorTarget {
    private static let profiles: [Name] = ["pa", "pb", "pc", "pd"]
    private static let symbols: [Name?] = [nil, "ETH-USD", "BTC-USD", "SOL-USD"]
    private static let holders: [Name?] = [nil, "w1", "w2", "w3"]
    private static let hosts: [Name?] = [nil, "h1", "h2"]
    private static let kinds: [RecordKind] = [.failed, .failed, .failed, .warning, .warning, .acquired, .released, .health]

    private static var thresholds: Thresholds {
        var t = Thresholds()
        t.ttl = .seconds(5)
        return t
    }

    /// Four bytes a record: kind and time step; profile, symbol and holder; caller, host,
    /// skipped signal and expiry; health values.
    static func records(_ data: UnsafeRawBufferPointer) -> [LockRecord] {
        var out: [LockRecord] = []
        var t: Int64 = 1_795_701_600_000_000
        var i = 1
        while i + 4 <= data.count {
            let (b0, b1, b2, b3) = (data[i], data[i + 1], data[i + 2], data[i + 3])
            i += 4
            let step = Int64(b0 >> 3 & 0x07)
            switch b0 >> 6 {
            case 0: break
            case 1: t += step * 150_000
            case 2: t += step * 4_000_000
            default: t -= step * 700_000
            }
            let kind = kinds[Int(b0 & 0x07)]
            var r = LockRecord(kind: kind, time: EventTime(micros: t), origin: Origin(input: 0, line: out.count + 1),
                               profile: kind == .health ? Name.empty : profiles[Int(b1 & 3)],
                               symbol: symbols[Int(b1 >> 2 & 3)], owner: holders[Int(b1 >> 4 & 3)],
                               caller: holders[Int(b2 & 3)], host: hosts[Int(b2 >> 2 & 3) % 3],
                               expires: [nil, EventTime(micros: t - 9_000_000), EventTime(micros: t + 20_000_000),
                                         EventTime(micros: t - 1_000_000)][Int(b2 >> 4 & 3)],
                               latency: nil, skipped: b2 >> 6 & 1 == 1, health: nil, syslogStamp: nil)
            if kind == .health {
                func flag(_ v: UInt8) -> Bool? { v == 0 ? nil : v == 1 }
                r.health = HealthReport(lockContentionCount: Int(b3 >> 4), tradingLoopHealthy: flag(b3 & 3 % 3),
                                        reconciliationLoopHealthy: flag(b3 >> 2 & 3 % 3))
            }
            out.append(r)
        }
        return out
    }

    /// One run's stages.
    struct Run {
        var reorderer = Reorderer(lateness: .seconds(2))
        var pairer = AttemptPairer(window: .seconds(1))
        var correlator = Correlator(thresholds: CorrelatorTarget.thresholds, maxKeys: 3)
        var alerts: [Alert] = []
        var released: [LockRecord] = []
        var inputs: [CorrelationInput] = []

        mutating func push(_ r: LockRecord) {
            reorderer.push(r, into: &released)
            for r in released { pairer.push(r, into: &inputs) }
            released.removeAll()
            for input in inputs { correlator.apply(input, into: &alerts) }
            inputs.removeAll()
        }

        mutating func finish(at end: EventTime?) -> (alerts: [Alert], summary: Summary) {
            reorderer.flush(into: &released)
            for r in released { pairer.push(r, into: &inputs) }
            inputs += pairer.flush()
            for input in inputs { correlator.apply(input, into: &alerts) }
            correlator.finish(at: end)
            return (alerts, correlator.summary(counts: .init(), firstAt: nil, lastAt: end, exit: 0))
        }

        /// This run as `--state` keeps it: its saved values, through JSON and back when `json`
        /// (Foundation's coders are slow: one input in four).
        func restored(json: Bool) -> Run {
            func roundTrip<T: Codable>(_ v: T) -> T {
                json ? try! JSONDecoder().decode(T.self, from: try! JSONEncoder().encode(v)) : v
            }
            var r = Run()
            r.reorderer.restore(roundTrip(reorderer.saved))
            r.pairer.restore(roundTrip(pairer.saved))
            r.correlator = Correlator(thresholds: CorrelatorTarget.thresholds, maxKeys: 3, restoring: roundTrip(correlator.saved))
            r.alerts = alerts
            return r
        }
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        let records = records(data)
        let end = records.map(\.time).max()
        let cut = data.isEmpty ? 0 : Int(data[0]) % (records.count + 1)
        var whole = Run()
        for r in records { whole.push(r) }
        var parts = Run()
        for r in records[..<cut] { parts.push(r) }
        parts = parts.restored(json: data.count % 4 == 0)
        for r in records[cut...] { parts.push(r) }
        let a = whole.finish(at: end), b = parts.finish(at: end)
        if a.alerts != b.alerts || a.summary != b.summary {
            func text(_ r: (alerts: [Alert], summary: Summary)) -> String {
                String(decoding: r.alerts.flatMap(JSONPrinter.line) + JSONPrinter.summaryLine(r.summary), as: UTF8.self)
            }
            fatalError("a run saved and continued after record \(cut) decides otherwise:\n\(text(a))\nagainst\n\(text(b))")
        }
    }
}
