import Foundation
import Runtime
import Tasks

/// A sweep opened to run: found by name in a results database and checked against the
/// configuration asked for (continued, or its failed jobs reset to run again), or planned there
/// now. Several processes may run one sweep at once (`bip sweep` twice, or beside `bip worker`s):
/// each claims its units one at a time, so none is run twice.
public final class SweepSession {
    public let store: ResultStore
    /// The database as messages name it (`ResultStore.path`).
    public let db: String
    public let record: SweepRecord
    public let config: SweepConfig

    /// Opens the sweep `name` (default: `requested`'s default name) of database `db` (a SQLite
    /// file or a PostgreSQL URL).
    /// `requested` is the configuration the command line describes (nil: only a name was
    /// given); it must match a stored sweep's. `resume` continues a stored sweep given by name
    /// alone; `retryFailed` marks its failed jobs pending again.
    public init(db: String, name: String?, requested: SweepConfig?, resume: Bool, retryFailed: Bool,
                progress: (String) -> Void) throws {
        let store = try ResultStore(path: db)
        let db = store.path
        guard let sweepName = name ?? requested?.defaultName else {
            throw SweepUsageError("give the sweep's fields (--methods, --sparsities, …, --config or --demo) or --name NAME")
        }
        (record, config) = try Self.openOrPlan(sweepName, store: store, db: db, requested: requested, resume: resume,
                                               retryFailed: retryFailed, progress: progress)
        self.store = store
        self.db = db
    }

    private static func openOrPlan(_ sweepName: String, store: ResultStore, db: String, requested: SweepConfig?, resume: Bool,
                                   retryFailed: Bool, progress: (String) -> Void) throws -> (SweepRecord, SweepConfig) {
        if let record = try store.sweep(named: sweepName) {
            let stored = try SweepConfig.stored(record, in: store)
            if let requested, requested != stored {
                throw FileError(db, "sweep '\(sweepName)' exists with another configuration (\(record.config)); give another --name, or --resume --name \(sweepName) alone")
            }
            if retryFailed {
                let count = try store.resetFailed(sweepID: record.id!)
                progress("sweep \(sweepName): \(count) failed jobs to run again")
            } else if !resume && requested == nil {
                throw SweepUsageError("sweep '\(sweepName)' exists: add --resume to continue it")
            }
            progress("sweep \(sweepName): continuing (planned \(record.createdAt))")
            return (record, stored)
        }
        guard let requested else {
            throw FileError(db, "no sweep named '\(sweepName)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
        }
        if resume { progress("sweep \(sweepName): nothing stored yet, starting it") }
        do {
            let record = try store.plan(name: sweepName, config: requested.json, jobs: requested.jobs,
                                        at: ISO8601DateFormatter().string(from: Date()))
            progress("sweep \(sweepName): planned \(requested.jobs.count) jobs in \(db)")
            return (record, requested)
        } catch {
            // Planned by another process a moment ago: open that one (the same checks apply).
            guard try store.sweep(named: sweepName) != nil else { throw error }
            return try openOrPlan(sweepName, store: store, db: db, requested: requested, resume: true, retryFailed: false, progress: progress)
        }
    }

    /// Runs the sweep's units that are not done, as one worker (after measuring done jobs again,
    /// those `remeasure` names); Ctrl-C stops it between writes, saying how to continue.
    public func run(data: DataDirectory, probe: ThroughputProbe?, remeasure: SweepWorker.Remeasure?,
                    progress: @escaping @Sendable (String) -> Void) throws -> SweepWorker.Summary {
        try SweepInterruption(db: db, resume: "bip sweep --resume --name \(record.name) --db \(db)", store: store, report: progress).install()
        let worker = SweepWorker(store: store, sweep: record, config: config, data: data, probe: probe, progress: progress)
        if let remeasure { try worker.remeasure(remeasure) }
        return try worker.run()
    }

    /// The sweep's jobs as stored now.
    public func jobs() throws -> [SweepJob] { try store.jobs(sweepID: record.id!) }
}

/// A sweep asked for in a way that cannot work (no fields and no name; a stored sweep named
/// without `--resume`): the command line's mistake, not a file's.
public struct SweepUsageError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
