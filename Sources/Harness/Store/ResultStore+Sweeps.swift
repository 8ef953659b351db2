import Foundation
import Runtime

extension ResultStore {
    /// The sweep called `name`, if stored.
    public func sweep(named name: String) throws -> SweepRecord? {
        try read { try $0.fetch(SweepRecord.self, "WHERE name = $1", [.text(name)]).first }
    }

    public func sweeps() throws -> [SweepRecord] { try read { try $0.fetch(SweepRecord.self, "ORDER BY id") } }

    /// Stores a new sweep and its planned jobs in one transaction; a sweep of that name must not exist.
    public func plan(name: String, config: String, jobs: [SweepJobSpec], at time: String) throws -> SweepRecord {
        try write { statements in
            var sweep = SweepRecord(name: name, config: config, createdAt: time)
            sweep.id = try statements.insert(sweep)
            for (position, spec) in jobs.enumerated() {
                let job = SweepJob(sweepID: sweep.id!, position: position, method: spec.method, sparsity: spec.sparsity,
                                   seed: Int64(bitPattern: spec.seed), tuned: spec.tuned,
                                   pruning: spec.pruning)
                _ = try statements.insert(job)
            }
            return sweep
        }
    }

    public func jobs(sweepID: Int64) throws -> [SweepJob] {
        try read { try $0.fetch(SweepJob.self, "WHERE sweep_id = $1 ORDER BY position", [.integer(sweepID)]) }
    }

    /// Writes a job's new state.
    public func update(_ job: SweepJob) throws {
        try write { statements in
            guard try statements.update(job) == 1 else { throw FileError(path, "write failed: no sweep job \(job.id.map(String.init) ?? "without an id")") }
        }
    }

    /// Hands the jobs of a sweep that this process was running back as pending, this attempt not
    /// counted: an interrupted run (Ctrl-C, SIGTERM) did not die in them. Called by the
    /// interruption handler while it holds `writeLock`, so it writes without taking it.
    func releaseInterruptedJobs(sweepID: Int64) {
        _ = try? engine.write { statements in
            try statements.execute("""
                UPDATE sweep_job SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                WHERE sweep_id = $1 AND status = 'running'
                """, [.integer(sweepID)])
        }
    }

    /// Marks the failed jobs of a sweep pending again; returns how many.
    public func resetFailed(sweepID: Int64) throws -> Int {
        try write { try $0.execute("UPDATE sweep_job SET status = 'pending' WHERE sweep_id = $1 AND status = 'failed'", [.integer(sweepID)]) }
    }

    /// The tasks of a run that have stored metrics.
    public func finishedTasks(runID: Int64) throws -> Set<String> {
        Set(try read { try $0.query("SELECT DISTINCT task FROM task_metric WHERE run_id = $1", [.integer(runID)]) }.compactMap { row in
            if case .text(let task)? = row["task"] { return task } else { return nil }
        })
    }

    /// Every stored run, by id.
    public func run(id: Int64) throws -> EvalRun? { try read { try $0.fetch(EvalRun.self, "WHERE id = $1", [.integer(id)]).first } }
}
