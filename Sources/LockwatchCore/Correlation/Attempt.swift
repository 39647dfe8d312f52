// Correlation: lock records → attempts → episodes, escalations and notices.
// Nothing here knows of log formats or regexes; time is event time only.


/// A lock key: contention is tracked per profile and symbol (empty when no record had one).
public struct LockKey: Hashable, Comparable, Sendable {
    public var profileName: Name
    public var symbolName: Name

    public init(profile: Name, symbol: Name) { profileName = profile; symbolName = symbol }
    public init(profile: String, symbol: String) { self.init(profile: Name(profile), symbol: Name(symbol)) }

    public var profile: String { profileName.string }
    public var symbol: String { symbolName.string }

    public func hash(into hasher: inout Hasher) { hasher.combine(profileName.id); hasher.combine(symbolName.id) }

    public func _rawHashValue(seed: Int) -> Int {
        mixHash(UInt64(profileName.id) << 32 | UInt64(symbolName.id), seed: seed)
    }

    /// The key as one integer, for `IntMap`.
    var packed: UInt64 { UInt64(profileName.id) << 32 | UInt64(symbolName.id) }

    /// `profile / symbol` (`-` for no symbol), for people.
    var label: String { "\(profile) / \(symbol.isEmpty ? "-" : symbol)" }

    /// In order of the texts (`NameTable.textPrecedes`): the profiles', then the symbols'.
    public static func < (a: LockKey, b: LockKey) -> Bool {
        a.profileName != b.profileName ? NameTable.shared.textPrecedes(a.profileName, b.profileName)
            : NameTable.shared.textPrecedes(a.symbolName, b.symbolName)
    }
}

/// One failed attempt to take the entry lock: a failed record, a warning, or both paired.
public struct Attempt: Equatable, Sendable {
    /// The time of its earliest record.
    public var time: EventTime
    public var key: LockKey
    public var owner: Name?
    public var caller: Name?
    public var expires: EventTime?
    public var host: Name?
    /// Whether its warning said the trading loop skipped a signal.
    public var skipped: Bool

    public init(time: EventTime, key: LockKey, owner: Name? = nil, caller: Name? = nil,
                expires: EventTime? = nil, host: Name? = nil, skipped: Bool = false) {
        self.time = time; self.key = key; self.owner = owner; self.caller = caller
        self.expires = expires; self.host = host; self.skipped = skipped
    }

    /// Builds an attempt from one record (a failed record or a warning).
    init(_ r: LockRecord) {
        time = r.time
        key = LockKey(profile: r.profileName, symbol: r.symbolName ?? Name.empty)
        owner = r.ownerName
        caller = r.callerName
        expires = r.expires
        host = r.hostName
        skipped = r.skipped
    }

    /// Builds an attempt from a failed record and a warning, paired (`first` the earlier).
    ///
    /// A failed record that comes first and names its symbol is an attempt by itself, decided
    /// the moment it is read: the warning after it only adds its skipped signal (`joining`).
    /// Otherwise what the failed record says wins, and what only the warning says fills in.
    init(_ first: LockRecord, _ second: LockRecord) {
        if first.decidesAlone {
            self.init(first)
            skipped = skipped || second.skipped
            return
        }
        let (failed, warning) = first.kind == .failed ? (first, second) : (second, first)
        self.init(time: first.time,
                  key: LockKey(profile: first.profileName, symbol: failed.symbolName ?? warning.symbolName ?? Name.empty),
                  owner: failed.ownerName ?? warning.ownerName, caller: failed.callerName ?? warning.callerName,
                  expires: failed.expires ?? warning.expires, host: first.hostName ?? second.hostName,
                  skipped: warning.skipped || failed.skipped)
    }
}

extension LockRecord {
    /// Whether this record, as the earlier of a pair, makes its attempt alone: a failed record
    /// with its symbol. A warning can then change nothing of the attempt but its skipped
    /// signal, so the attempt need not wait for one (docs/semantics.md, "Attempts").
    var decidesAlone: Bool { kind == .failed && symbolName != nil }
}

/// A warning that joined the attempt of a failed record already handed on: the attempt's
/// skipped signal (only such warnings are handed on).
public struct JoinedWarning: Equatable, Sendable {
    public var time: EventTime
    public var key: LockKey
}

/// What Correlation consumes, in event-time order.
public enum CorrelationInput: Equatable, Sendable {
    case attempt(Attempt)
    /// A warning that skipped a signal joined an attempt handed on before it.
    case joined(JoinedWarning)
    case acquired(LockRecord)
    case released(LockRecord)
    case health(LockRecord)

    /// The event time at which this input happened.
    public var time: EventTime {
        switch self {
        case .attempt(let a): a.time
        case .joined(let j): j.time
        case .acquired(let r), .released(let r), .health(let r): r.time
        }
    }
}

