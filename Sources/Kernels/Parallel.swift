import Dispatch
import Foundation

/// Work spread over the machine's cores.
public enum Parallel {
    /// Runs `body(i)` for every i in 0..<count, on all cores; returns when all are done.
    /// Small counts run inline, so callers need not special-case them.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// Splits 0..<count into one contiguous range per core and runs `body` on each.
    public static func forRanges(_ count: Int, minimumPerRange: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(cores, count / max(1, minimumPerRange)))
        if parts == 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            body((p * count / parts)..<((p + 1) * count / parts))
        }
    }

    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
