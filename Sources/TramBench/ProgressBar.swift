import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tqdm-style progress line on standard error while requests finish:
///
///      50%|█████████▌         | 8/16 [00:03<00:03,  2.41it/s]
///
/// On a terminal the line is redrawn in place (at most 10 times a second, and at the end);
/// into a file or pipe, a line is written at every tenth of the way, so logs stay short.
package struct ProgressBar {
    let total: Int
    let interactive: Bool
    let write: (String) -> Void
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    var lastDraw: ContinuousClock.Instant?
    var lastDecile = 0

    package init(total: Int, interactive: Bool = isatty(2) != 0, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total
        self.interactive = interactive
        self.write = write
        start = clock.now
    }

    package mutating func update(_ done: Int) {
        let now = clock.now
        if interactive {
            if done < total, let last = lastDraw, now - last < .milliseconds(100) { return }
            lastDraw = now
            write("\r" + Self.line(done: done, total: total, elapsed: seconds(now - start)) + (done >= total ? "\n" : ""))
        } else {
            let decile = total > 0 ? done * 10 / total : 10
            guard decile > lastDecile else { return }
            lastDecile = decile
            write(Self.line(done: done, total: total, elapsed: seconds(now - start)) + "\n")
        }
    }

    /// One rendering of the bar.
    package static func line(done: Int, total: Int, elapsed: Double, width: Int = 20) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let eighths = Int((fraction * Double(width * 8)).rounded(.down))
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        var bar = String(repeating: "█", count: eighths / 8) + partial
        bar += String(repeating: " ", count: max(0, width - bar.count))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let percent = String(Int(fraction * 100)).leftPadded(to: 3)
        return "\(percent)%|\(bar)| \(done)/\(total) [\(clockTime(elapsed))<\(clockTime(remaining)), \(String(format: "%.2f", rate))it/s]"
    }

    /// mm:ss, or h:mm:ss past an hour.
    static func clockTime(_ s: Double) -> String {
        let t = Int(s.rounded(.down))
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
