import Dispatch
import Foundation

/// Ctrl-C (or SIGTERM) during a sweep: wait for the write under way, hand the running job back
/// (an interruption is not counted as an attempt the process died in), say how to continue, exit.
/// Everything stored stays stored; the task being evaluated is lost and run again on resume.
public final class SweepInterruption: @unchecked Sendable {
    let name: String
    let db: String
    let report: @Sendable (String) -> Void
    let store: ResultStore
    let sweepID: Int64
    /// The `bip bench` child running now (0: none); it is killed too, having nothing to save.
    nonisolated(unsafe) static var child: Int32 = 0
    private var sources: [DispatchSourceSignal] = []

    public init(name: String, db: String, store: ResultStore, sweepID: Int64, report: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.db = db
        self.store = store
        self.sweepID = sweepID
        self.report = report
    }

    public func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [name, db, store, sweepID, report] in
                if Self.child > 0 { kill(Self.child, SIGKILL) }
                ResultStore.writeLock.lock()
                store.releaseInterruptedJobs(sweepID: sweepID)
                report("\ninterrupted: every finished task is stored in \(db); continue with: bip sweep --resume --name \(name) --db \(db)")
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}
