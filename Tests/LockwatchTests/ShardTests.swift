// `--shard K/N` (docs/semantics.md, "Shards").

import Foundation
import Testing
import LockwatchCore
import LockwatchTestSupport

@Suite struct ShardTests {
    @Test func aProfileBelongsToOneShardWhateverTheCount() {
        #expect(Shard("2/3") == Shard(index: 2, count: 3))
        #expect(Shard("0/3") == nil && Shard("4/3") == nil && Shard("1/0") == nil && Shard("x") == nil)
        // Stable across runs and machines: the hash of the id's bytes.
        #expect(Shard.of(profile: "prof-A", count: 4) == Shard.of(profile: "prof-A", count: 4))
        #expect((1...4).contains(Shard.of(profile: "prof-A", count: 4)))
        #expect(Shard.of(profile: "anything", count: 1) == 1)
    }

    /// The shards' events together are the whole run's, but for multi_profile (and whether a
    /// recovered episode had escalated, which multi_profile can decide).
    @Test func theShardsTogetherGiveTheWholeRunsFindings() throws {
        var random = TestRandom()
        var lines: [String] = []
        var t = 0.0
        for _ in 0..<3000 {
            t += Double.random(in: 0...0.4, using: &random)
            let p = Int.random(in: 0..<60, using: &random)
            let s = ["BTC-USD", "ETH-USD"][Int.random(in: 0...1, using: &random)]
            let kind = Int.random(in: 0..<10, using: &random)
            let stamp = String(format: "2026-11-26 14:%02d:%02d,%03d", Int(t) / 60, Int(t) % 60, Int(t * 1000) % 1000)
            lines.append(kind < 8
                ? "\(stamp) WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=p\(p) symbol=\(s) owner_token=w1:a caller_token=w2:b"
                : "\(stamp) INFO entry_lock: acquired profile_id=p\(p) symbol=\(s) caller_token=w2:b latency_ms=4")
        }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        func events(_ shard: Shard?) throws -> [String] {
            var c = Configuration()
            c.shard = shard
            return try runJSON(c, sources: [ChunkedSource(bytes, sizes: [1 << 16], name: "shards.log")])
                .split(separator: "\n").map(String.init)
                .filter { !$0.contains(#""type":"summary""#) && !$0.contains(#""multi_profile""#) }
                .map { $0.replacingOccurrences(of: #","escalated":true"#, with: #","escalated":false"#) }
        }
        let whole = try events(nil)
        #expect(whole.contains { $0.contains(#""persistent""#) }, "the log escalates")
        for n in [2, 3, 5] {
            var together: [String] = []
            for k in 1...n { together += try events(Shard(index: k, count: n)) }
            #expect(together.sorted() == whole.sorted(), "\(n) shards")
        }
    }
}
