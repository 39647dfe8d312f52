import LockwatchTestSupport
import Testing
@testable import LockwatchCore

/// The ring against an array doing the same, over random operations that wrap it around and
/// grow it; copies stay apart (copy-on-write).
@Suite struct RingTests {
    @Test func behavesAsAnArrayQueue() {
        var g = TestRandom()
        var ring = Ring<Int>()
        var model: [Int] = []
        var copies: [(Ring<Int>, [Int])] = []
        for step in 0..<50_000 {
            switch Int.random(in: 0..<10, using: &g) {
            case 0..<4:
                ring.append(step); model.append(step)
            case 4..<7:
                if let x = ring.popFirst() { #expect(x == model.removeFirst()) } else { #expect(model.isEmpty) }
            case 7:
                let i = Int.random(in: 0...model.count, using: &g)
                ring.insert(step, at: i); model.insert(step, at: i)
            case 8:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &g)
                    ring[i] = -step; model[i] = -step
                }
            default:
                if step % 97 == 0 { copies.append((ring, model)) }
                if step % 1009 == 0 { ring.removeAll(); model.removeAll() }
            }
            #expect(ring.count == model.count && ring.first == model.first && ring.last == model.last)
        }
        let same = Array(ring) == model
        #expect(same)
        // Every copy taken along the way still holds what it held then.
        for (k, (r, m)) in copies.enumerated() {
            let kept = Array(r) == m
            #expect(kept, "copy \(k) changed")
        }
        #expect(copies.count > 10)
    }
}
