// Progress on stderr for batch work, when stderr is a terminal: bytes read of the total,
// MB/s, time left. Nothing at all when it is not a terminal.

import Foundation
import LockwatchCore
import Synchronization

/// A line on stderr, rewritten four times a second while a batch run reads its files.
final class ProgressLine: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Whether a progress line may be on the terminal now (warnings clear it first).
    static let active = Atomic<Bool>(false)

    /// Starts showing `progress`, or returns nil when stderr is not a terminal.
    static func start(_ progress: ReadProgress) -> ProgressLine? {
        guard isatty(2) == 1 else { return nil }
        let line = ProgressLine()
        let started = Date()
        Thread.detachNewThread {
            // Short runs show nothing.
            var shown = false
            while !line.stopped.load(ordering: .relaxed) {
                usleep(250_000)
                let (consumed, total) = progress.state
                let elapsed = Date().timeIntervalSince(started)
                guard let total, total > 0, elapsed >= 0.5, !line.stopped.load(ordering: .relaxed) else { continue }
                let rate = Double(consumed) / elapsed
                let left = rate > 0 ? Double(total - consumed) / rate : 0
                let percent = min(100, Int(Double(consumed) * 100 / Double(total)))
                let text = "lockwatch: \(percent)% · \(bytes(consumed)) of \(bytes(total)) · \(bytes(Int(rate)))/s · \(TimeSpan.seconds(left).spoken) left"
                ProgressLine.active.store(true, ordering: .relaxed)
                FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
                shown = true
            }
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            ProgressLine.active.store(false, ordering: .relaxed)
            line.done.signal()
        }
        return line
    }

    /// Clears the line and stops.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), k = 0
        while v >= 1000, k < units.count - 1 { v /= 1000; k += 1 }
        return k == 0 ? "\(n) B" : String(format: v >= 100 ? "%.0f %@" : "%.1f %@", v, units[k])
    }
}
