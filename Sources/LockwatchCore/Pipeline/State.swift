// Pipeline: the state one run leaves to the next (`--state`), so that a live pipe that is
// restarted — or killed — continues where it stopped: same episodes, same counters, no
// escalation twice.

import Foundation

/// Everything a run has applied at a chunk boundary: the input read so far (its lines and its
/// journald cursor), what ordering and pairing still hold, and the correlator's keys.
///
/// Saved as JSON (names as their texts, times as microseconds since the epoch), rewritten
/// atomically. A run saves it before it writes out the events of the records it covers, so a
/// killed run leaves a state that matches what it printed.
struct SavedState: Codable {
    /// Version 2 keeps pairing's joinable failed records and the last timed line; version 3
    /// each host's progress for ordering. States of versions 1 and 2 are read as well.
    static let currentVersion = 3
    static let readableVersions = 1...3

    var version: Int
    /// Wall time of the save, for people reading the file.
    var savedAt: String
    var input: String
    /// The journald `__CURSOR` of the last line read, when the input is journald JSON.
    var cursor: String?
    /// Lines read so far.
    var lines: Int
    var counts: Summary.Counts
    var firstAt: Int64?
    var lastAt: Int64?
    var syslogYear: Int?
    var syslogMonth: Int
    /// The input's last timed line, which a line without a time of its own takes: its time,
    /// and its syslog stamp packed (`SyslogStamp.packed`) when its year is inferred.
    var lastTime: Int64?
    var lastTimeStamp: UInt64?
    /// Escalations fired so far, by reason (for the metrics of the next run).
    var escalationsByReason: [String: Int]
    var reorderer: SavedReorderer
    var pairer: SavedPairer
    var correlator: SavedCorrelator
    /// The Alertmanager alerts open (`--alertmanager`).
    var alerts: [AlertFeed.SavedAlert]? = nil

    /// The number of records ordering and pairing hold, which the next run receives.
    var heldRecords: Int {
        reorderer.held.count + pairer.waiting.reduce(0) { $0 + 1 + ($1.partner == nil ? 0 : 1) }
    }
    /// Open episodes.
    var openEpisodes: Int { correlator.keys.filter { $0.episode != nil }.count }
}

/// A lock record with its names as texts.
struct SavedRecord: Codable {
    var kind: RecordKind
    var time: Int64
    var line: Int
    var profile: String
    var symbol: String?
    var owner: String?
    var caller: String?
    var host: String?
    var expires: Int64?
    var latency: Double?
    var skipped: Bool
    var health: HealthReport?

    init(_ r: LockRecord) {
        kind = r.kind; time = r.time.micros; line = r.origin.line
        profile = r.profile; symbol = r.symbol; owner = r.owner; caller = r.caller; host = r.host
        expires = r.expires?.micros; latency = r.latency; skipped = r.skipped; health = r.health
    }

    /// The record, on the run's only input.
    var record: LockRecord {
        LockRecord(kind: kind, time: EventTime(micros: time), origin: Origin(input: 0, line: line),
                   profile: Name(profile), symbol: symbol.map { Name($0) }, owner: owner.map { Name($0) },
                   caller: caller.map { Name($0) }, host: host.map { Name($0) },
                   expires: expires.map { EventTime(micros: $0) }, latency: latency, skipped: skipped,
                   health: health, syslogStamp: nil)
    }
}

/// Records held for ordering.
struct SavedReorderer: Codable {
    var maxSeen: Int64?
    var late: Int
    var held: [SavedRecord]
    /// The latest time an idle flush released, and the records counted for arriving after it.
    var releasedUpTo: Int64?
    var lateAfterFlush: Int?
    /// For each held record, the release point it arrived at when it came out of order (nil:
    /// its own time). Absent in states of an earlier lockwatch.
    var heldKeys: [Int64?]?
    /// Each host's latest time and its records handled out of order.
    var hosts: [SavedHostOrder]?
}

/// One host's progress, for ordering.
struct SavedHostOrder: Codable {
    var name: String?
    var latest: Int64
    var latestRecord: Int64?
    var lagging: Bool?
    var late: Int
}

/// A record waiting for its pairing partner (or complete, waiting behind one that is not).
struct SavedWaiting: Codable {
    var record: SavedRecord
    var partner: SavedRecord?
    var complete: Bool
}

/// What pairing holds: the records waiting, and the failed records handed on that a warning
/// may still join. A state of an earlier lockwatch saved only the waiting records, as a list.
struct SavedPairer: Codable {
    var waiting: [SavedWaiting]
    var joinable: [SavedRecord]
    /// The latest event time pairing had seen.
    var latest: Int64?

    init(waiting: [SavedWaiting], joinable: [SavedRecord], latest: Int64?) {
        self.waiting = waiting; self.joinable = joinable; self.latest = latest
    }

    private enum CodingKeys: String, CodingKey { case waiting, joinable, latest }

    init(from decoder: Decoder) throws {
        if let list = try? decoder.singleValueContainer().decode([SavedWaiting].self) {
            self.init(waiting: list, joinable: [], latest: nil)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(waiting: try c.decode([SavedWaiting].self, forKey: .waiting),
                  joinable: try c.decode([SavedRecord].self, forKey: .joinable),
                  latest: try c.decodeIfPresent(Int64.self, forKey: .latest))
    }
}

/// The correlator: every key's counters and open episode, profile activity and host health.
struct SavedCorrelator: Codable {
    var evicted: Int
    var escalations: Int
    var latest: Int64?
    var incident: Bool
    var keys: [SavedKey]
    var activity: [SavedActivity]
    var activityQueue: [SavedActivity]
    var hosts: [SavedHost]
}

struct SavedKey: Codable {
    var profile: String
    var symbol: String
    var failures: Int
    var skipped: Int
    var episodes: Int
    var escalations: Int
    var escalated: Bool
    var longest: Int64
    var owners: [SavedOwner]
    var state: EpisodeState
    var lastSeen: Int64
    var episode: SavedEpisode?
}

struct SavedOwner: Codable {
    var name: String
    var failures: Int
    var selfHeld: Bool
    /// Absent from states saved before they were kept.
    var first: Int64?
    var last: Int64?
    var longest: Int64?
}

struct SavedEpisode: Codable {
    var start: Int64
    var lastFailure: Int64
    var failures: Int
    var owners: [SavedHolder]
    var fired: [EscalationReason]
}

struct SavedHolder: Codable {
    var name: String
    var since: Int64
    var stuckReported: Bool
}

struct SavedActivity: Codable {
    var profile: String
    var time: Int64
}

struct SavedHost: Codable {
    var host: String
    var health: HealthReport
    /// Absent from states saved before they were kept.
    var spells: Int?
    var periods: [SavedPeriod]?
}

struct SavedPeriod: Codable {
    /// A `Loop`'s raw value (a string, so that a loop added later does not make the file unreadable).
    var loop: String
    var start: Int64
    var end: Int64?
}

extension RecordKind: Codable {}
extension EpisodeState: Codable {}
extension EscalationReason: Codable {}

/// Why the state file could not be used.
public struct StateError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Reading and writing the state file.
enum StateFile {
    /// The state saved in `path`; nil when there is none yet. Throws when the file is there but
    /// cannot be read or is not a state of this version.
    static func load(_ path: String) throws -> SavedState? {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let e as CocoaError where e.code == .fileReadNoSuchFile {
            return nil
        } catch {
            throw StateError(path: path, reason: "cannot read the state: \(error.localizedDescription)")
        }
        let state: SavedState
        do {
            state = try JSONDecoder().decode(SavedState.self, from: data)
        } catch {
            throw StateError(path: path, reason: "not a lockwatch state file (\(describe(error)))")
        }
        guard SavedState.readableVersions.contains(state.version) else {
            throw StateError(path: path, reason: "a state of version \(state.version); this lockwatch reads version \(SavedState.currentVersion)")
        }
        return state
    }

    /// The state as the file holds it.
    static func encode(_ state: SavedState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(state)) + [10]
    }

    /// Moves an unusable state file aside, so that the run can start afresh without losing it.
    static func setAside(_ path: String) -> String? {
        let aside = path + ".unusable"
        return rename(path, aside) == 0 ? aside : nil
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): "\(c.debugDescription) at \(pathText(c.codingPath))"
        case DecodingError.keyNotFound(let key, let c): "no \(key.stringValue) at \(pathText(c.codingPath))"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "\(c.debugDescription) at \(pathText(c.codingPath))"
        default: "\(error)"
        }
    }

    private static func pathText(_ path: [CodingKey]) -> String {
        path.isEmpty ? "the top" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// How journalctl resumes the journal where a state stopped.
public enum JournalResume {
    /// `--after-cursor=CURSOR` when the state in `path` has a cursor; `--since=now` when there
    /// is no state yet, or it has no cursor (its input was not journald JSON).
    public static func arguments(state path: String) throws -> [String] {
        guard let cursor = try StateFile.load(path)?.cursor else { return ["--since=now"] }
        return ["--after-cursor=\(cursor)"]
    }
}
