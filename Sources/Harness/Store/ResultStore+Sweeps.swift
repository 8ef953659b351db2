import Foundation
import GRDB

extension ResultStore {
    /// The sweep called `name`, if stored.
    public func sweep(named name: String) throws -> SweepRecord? {
        try read { try SweepRecord.filter(Column("name") == name).fetchOne($0) }
    }

    public func sweeps() throws -> [SweepRecord] { try read { try SweepRecord.order(Column("id")).fetchAll($0) } }

    /// Stores a new sweep and its planned jobs in one transaction; a sweep of that name must not exist.
    public func plan(name: String, config: String, jobs: [SweepJobSpec], at time: String) throws -> SweepRecord {
        try write { db in
            var sweep = SweepRecord(name: name, config: config, createdAt: time)
            try sweep.insert(db)
            for (position, spec) in jobs.enumerated() {
                var job = SweepJob(sweepID: sweep.id!, position: position, method: spec.method, sparsity: spec.sparsity,
                                   seed: Int64(bitPattern: spec.seed), tuned: spec.tuned,
                                   pruning: spec.pruning)
                try job.insert(db)
            }
            return sweep
        }
    }

    public func jobs(sweepID: Int64) throws -> [SweepJob] {
        try read { try SweepJob.filter(Column("sweep_id") == sweepID).order(Column("position")).fetchAll($0) }
    }

    /// Writes a job's new state.
    public func update(_ job: SweepJob) throws {
        try write { db in try job.update(db) }
    }

    /// Hands the jobs of a sweep that this process was running back as pending, this attempt not
    /// counted: an interrupted run (Ctrl-C, SIGTERM) did not die in them. Called by the
    /// interruption handler while it holds `writeLock`, so it writes without taking it.
    func releaseInterruptedJobs(sweepID: Int64) {
        _ = try? queue.write { db in
            try db.execute(sql: "UPDATE sweep_job SET status = 'pending', attempts = MAX(attempts - 1, 0) WHERE sweep_id = ? AND status = 'running'",
                           arguments: [sweepID])
        }
    }

    /// Marks the failed jobs of a sweep pending again; returns how many.
    public func resetFailed(sweepID: Int64) throws -> Int {
        try write { db in
            try db.execute(sql: "UPDATE sweep_job SET status = 'pending' WHERE sweep_id = ? AND status = 'failed'", arguments: [sweepID])
            return db.changesCount
        }
    }

    /// The tasks of a run that have stored metrics.
    public func finishedTasks(runID: Int64) throws -> Set<String> {
        Set(try read { try String.fetchAll($0, sql: "SELECT DISTINCT task FROM task_metric WHERE run_id = ?", arguments: [runID]) })
    }

    /// Every stored run, by id.
    public func run(id: Int64) throws -> EvalRun? { try read { try EvalRun.fetchOne($0, key: id) } }
}
