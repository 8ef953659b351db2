import Dispatch
import Foundation

/// Work spread over the machine's cores.
///
/// The threads that run the work (`WorkerPool`'s, or Dispatch's) take the lower of two priorities
/// (the higher nice value): the caller's and the process's (its main thread's, which `nice` and
/// `renice PID` set). So `nice bip sweep`, or `renice` on its process, lowers all of its work:
/// threads started by the process run at the default priority whatever its nice value. A niced
/// process that leads its session lowers its session's scheduling group too (`SessionGroup`).
public enum Parallel {
    /// Runs `body(i)` for every i in 0..<count, on all cores; returns when all are done.
    /// Small counts run inline, so callers need not special-case them. The work goes to
    /// `WorkerPool`'s threads, or to Dispatch's while the pool runs other work.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        _ = sessionGroupFollowsNice
        let nice = workNice()
        if let pool = WorkerPool.shared, pool.run(count, nice: nice, body) { return }
        DispatchQueue.concurrentPerform(iterations: count) { i in
            follow(nice)
            body(i)
        }
    }

    /// Splits 0..<count into one contiguous range per core and runs `body` on each.
    public static func forRanges(_ count: Int, minimumPerRange: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(cores, count / max(1, minimumPerRange)))
        forEach(parts) { p in body((p * count / parts)..<((p + 1) * count / parts)) }
    }

    /// The nice value work handed out by the calling thread runs at: the larger of the calling
    /// thread's and the main thread's (Linux keeps one per thread; the main thread's id is the
    /// process id).
    static func workNice() -> Int32 {
        max(currentNice(), getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid())))
    }

    /// The calling thread's nice value.
    static func currentNice() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    /// Sets the calling thread's nice value to `nice` when it differs. Lowering it needs
    /// privileges; where they are missing the thread keeps its own.
    static func follow(_ nice: Int32) {
        if currentNice() != nice { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
    }

    /// Done once, when work is first handed out: a niced process that leads its session lowers
    /// its session's scheduling group as well (`SessionGroup`), so that `setsid nice bip sweep`
    /// leaves the cores to other sessions too.
    private static let sessionGroupFollowsNice: Void = { SessionGroup.followProcessNice() }()

    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
