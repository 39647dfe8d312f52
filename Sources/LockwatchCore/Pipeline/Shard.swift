// Pipeline: `--shard K/N`, for fleets larger than one collector keeps up with (docs/semantics.md,
// "Shards").

/// One of N collectors' part of the profiles: a profile belongs to exactly one shard, by a hash
/// of its id that every lockwatch computes alike (FNV-1a, 64 bits, of the id's UTF-8 bytes,
/// modulo N). Every key of a profile is correlated by its shard alone, so each shard's findings
/// but multi_profile are exact; several profiles contended at once across shards is counted by
/// Prometheus over every shard's metrics. Health reports carry no profile: shard 1 takes them.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 1 … count.
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// `K/N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard (1 … count) a profile id belongs to.
    public static func of(profile: String, count: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in profile.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(max(1, count))) + 1
    }
}

/// Decides per record whether it is this shard's, remembering each profile name's answer.
struct ShardFilter {
    let shard: Shard
    private var decided: [UInt32: Bool] = [:]

    init(_ shard: Shard) { self.shard = shard }

    mutating func owns(_ r: LockRecord) -> Bool {
        if r.kind == .health { return shard.index == 1 }
        let name = r.profileName
        if let d = decided[name.id] { return d }
        let mine = Shard.of(profile: name.string, count: shard.count) == shard.index
        if decided.count < 1 << 20 { decided[name.id] = mine }
        return mine
    }
}
