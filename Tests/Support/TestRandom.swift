// What the test targets share: the generator of the random tests.

import Foundation

/// The random generator of the random tests (splitmix64): every test's generator derives from
/// one seed per run, LOCKWATCH_SEED when it is set, else a new one, printed once so that a
/// failing run can be repeated (`LOCKWATCH_SEED=N swift test`).
public struct TestRandom: RandomNumberGenerator {
    /// This run's seed.
    public static let runSeed: UInt64 = {
        let seed = ProcessInfo.processInfo.environment["LOCKWATCH_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("random tests: LOCKWATCH_SEED=\(seed)")
        return seed
    }()

    private var state: UInt64

    /// A generator for one test, from this run's seed and the test's name.
    public init(_ test: String = #function) { self.init(seed: Self.runSeed ^ Self.hash(test)) }

    /// A generator from a seed of its own.
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
