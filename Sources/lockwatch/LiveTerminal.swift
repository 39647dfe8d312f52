// The live view's terminal: its size, and `q` read from the terminal itself (stdin is the
// log), in raw mode, restored at the end.

import Foundation
import LockwatchCore

/// Reads keys from /dev/tty while the live view is up: `q` ends the run with its summary.
final class LiveKeys: @unchecked Sendable {
    // `saved` is written once before the thread starts and read by `restore` on the main thread.
    private let fd: Int32
    private var saved = termios()

    /// Starts listening, or nil when there is no terminal to listen to (Ctrl-C still works).
    static func start() -> LiveKeys? {
        let fd = open("/dev/tty", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let keys = LiveKeys(fd: fd)
        guard tcgetattr(fd, &keys.saved) == 0 else { close(fd); return nil }
        var raw = keys.saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(fd, TCSANOW, &raw)
        let thread = Thread {
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1 {
                if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") {
                    StopSignal.request()
                    return
                }
            }
        }
        thread.start()
        return keys
    }

    private init(fd: Int32) { self.fd = fd }

    /// Puts the terminal back as it was.
    func restore() { tcsetattr(fd, TCSANOW, &saved) }

    /// The terminal's rows and columns (24 × 80 when it does not say).
    static func size() -> (rows: Int, cols: Int) {
        var w = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 else { return (24, 80) }
        return (Int(w.ws_row), Int(w.ws_col))
    }

    /// Whether standard input is a pipe (the live pipe of `journalctl -f | lockwatch`).
    static var stdinIsPipe: Bool {
        var st = stat()
        return fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }
}
