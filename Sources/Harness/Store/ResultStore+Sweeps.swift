import Foundation
import Runtime

extension ResultStore {
    /// The sweep called `name`, if stored.
    public func sweep(named name: String) throws -> SweepRecord? {
        try read { try $0.fetch(SweepRecord.self, "WHERE name = $1", [.text(name)]).first }
    }

    public func sweeps() throws -> [SweepRecord] { try read { try $0.fetch(SweepRecord.self, "ORDER BY id") } }

    /// Stores a new sweep, its planned jobs and each job's model unit in one transaction; a sweep
    /// of that name must not exist.
    public func plan(name: String, config: String, jobs: [SweepJobSpec], at time: String) throws -> SweepRecord {
        try write { statements in
            var sweep = SweepRecord(name: name, config: config, createdAt: time)
            let id = try statements.insert(sweep)
            sweep.id = id
            for (position, spec) in jobs.enumerated() {
                let job = SweepJob(sweepID: id, position: position, method: spec.method, sparsity: spec.sparsity,
                                   seed: Int64(bitPattern: spec.seed), tuned: spec.tuned,
                                   pruning: spec.pruning)
                let jobID = try statements.insert(job)
                _ = try statements.insert(SweepUnit(sweepID: id, jobID: jobID, position: 0, kind: .model))
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

    /// Marks the failed units (and so the failed jobs) of a sweep pending again, their attempts
    /// from zero; returns how many jobs that was.
    public func resetFailed(sweepID: Int64) throws -> Int {
        try write { statements in
            let jobs = try statements.fetch(SweepJob.self, "WHERE sweep_id = $1 AND status = 'failed'", [.integer(sweepID)])
            try statements.execute("UPDATE sweep_unit SET status = 'pending', attempts = 0, claim_token = NULL WHERE sweep_id = $1 AND status = 'failed'",
                                   [.integer(sweepID)])
            for job in jobs { try settleJob(job.id!, statements) }
            return jobs.count
        }
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
