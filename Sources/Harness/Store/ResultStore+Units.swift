import Foundation
import Runtime
import Tasks

/// A unit claimed by a worker: the unit and its job as they were when claimed, and the token its
/// result (or failure, or release) must show.
public struct UnitClaim: Sendable {
    public let unit: SweepUnit
    public let job: SweepJob
    public let token: String
}

/// What a worker learned making a job's model, stored by `ResultStore.completeModelUnit`.
public struct JobModelFacts: Sendable {
    public var modelPath: String
    public var parameters: Int
    public var macsPerToken: Double
    public var planHash: String?
    public var pruneDetail: PruneDetail?
    /// The evaluation run to start when the job has none and no twin (nil when it has one).
    public var newRun: EvalRun?
    /// The job's tasks, in order, with their item counts (documents or windows).
    public var taskItems: [(task: String, count: Int)]
    /// Items per shard (nil: one shard per task).
    public var shardSize: Int?
    /// Whether the job's throughput is measured (a bench unit is planned when not yet measured).
    public var measuresThroughput: Bool

    public init(modelPath: String, parameters: Int, macsPerToken: Double, planHash: String?, pruneDetail: PruneDetail?,
                newRun: EvalRun?, taskItems: [(task: String, count: Int)], shardSize: Int?, measuresThroughput: Bool) {
        self.modelPath = modelPath
        self.parameters = parameters
        self.macsPerToken = macsPerToken
        self.planHash = planHash
        self.pruneDetail = pruneDetail
        self.newRun = newRun
        self.taskItems = taskItems
        self.shardSize = shardSize
        self.measuresThroughput = measuresThroughput
    }
}

/// A job's throughput and memory, measured by a bench unit.
public struct JobThroughput: Sendable {
    public var tokensPerSecond: Double
    public var denseTokensPerSecond: Double
    public var peakMemoryBytes: Int

    public init(tokensPerSecond: Double, denseTokensPerSecond: Double, peakMemoryBytes: Int) {
        self.tokensPerSecond = tokensPerSecond
        self.denseTokensPerSecond = denseTokensPerSecond
        self.peakMemoryBytes = peakMemoryBytes
    }
}

/// The units of sweep jobs and their claims: one worker at a time per unit, each result stored
/// once. Every change is one transaction that first checks the claim's token on the unit's row
/// (locked on PostgreSQL), so a worker whose claim was taken over (its lease ran out while it
/// was cut off) stores nothing; results of one job are written under a lock on the job's row, so
/// the worker finishing a task's last shard sees every other shard stored and combines them.
extension ResultStore {
    /// Claims made before a worker died: a unit claimed this many times and left running is
    /// failed instead of claimed again (the process died in it, e.g. the OOM killer).
    public static let maxAttempts = 2

    /// Claims the first unit of sweep `sweepID`, in plan order, that is pending, or running under
    /// a lease that ran out or for a worker of this host that has ended; nil when there is none.
    /// The claim holds for `lease` seconds, renewed by `renew`. `token` names the claim; a worker
    /// that may be interrupted notes it before claiming (see `SweepInterruption.holding`), so that
    /// a signal arriving just after the claim is written still hands the unit back.
    public func claimUnit(sweepID: Int64, worker: WorkerIdentity, lease: Double, token: String = UUID().uuidString) throws -> UnitClaim? {
        // The workers of this host that hold claims and have ended, found outside the transaction.
        let localPIDs = try read { statements in
            try statements.query("SELECT DISTINCT pid FROM sweep_unit WHERE sweep_id = $1 AND status = 'running' AND host = $2",
                                 [.integer(sweepID), .text(worker.host)])
        }.compactMap { row -> Int? in if case .integer(let pid)? = row["pid"] { return Int(pid) } else { return nil } }
        let ended = localPIDs.filter(WorkerIdentity.hasEnded)
        return try write { statements in
            while true {
                let now = Date().timeIntervalSince1970
                var arguments: [StoreValue] = [.integer(sweepID), .real(now)]
                var ownerGone = ""
                if !ended.isEmpty {
                    arguments.append(.text(worker.host))
                    let list = ended.indices.map { "$\($0 + 4)" }.joined(separator: ", ")
                    arguments += ended.map { .integer(Int64($0)) }
                    ownerGone = " OR (u.host = $3 AND u.pid IN (\(list)))"
                }
                let rows = try statements.query("""
                    SELECT u.* FROM sweep_unit u JOIN sweep_job j ON j.id = u.job_id
                    WHERE u.sweep_id = $1 AND (u.status = 'pending' OR (u.status = 'running' AND (u.lease_until < $2\(ownerGone))))
                    ORDER BY j.position, u.position LIMIT 1 \(statements.lockingClause(of: "u", skipLocked: true))
                    """, arguments)
                guard let row = rows.first else { return nil }
                var unit = try RowDecoder.record(SweepUnit.self, from: row)
                if unit.status == .running && unit.attempts >= Self.maxAttempts {
                    unit.status = .failed
                    unit.error = "the worker died during this unit \(unit.attempts) times (last: \(unit.worker ?? "?") on \(unit.host ?? "?")); "
                        + "bip sweep --retry-failed tries again"
                    unit.claimToken = nil
                    _ = try statements.update(unit)
                    try settleJob(unit.jobID, statements)
                    continue
                }
                unit.status = .running
                unit.attempts += 1
                unit.error = nil
                unit.claimToken = token
                unit.worker = worker.name
                unit.host = worker.host
                unit.pid = worker.pid
                unit.claimedAt = ISO8601DateFormatter().string(from: Date())
                unit.leaseUntil = now + lease
                _ = try statements.update(unit)
                let job = try settleJob(unit.jobID, statements)
                return UnitClaim(unit: unit, job: job, token: token)
            }
        }
    }

    /// Extends the claim's lease to `lease` seconds from now; false when the claim is no longer
    /// held (taken over, or the unit released).
    public func renew(_ claim: UnitClaim, lease: Double) throws -> Bool {
        try write { statements in
            try statements.execute("UPDATE sweep_unit SET lease_until = $1 WHERE id = $2 AND claim_token = $3 AND status = 'running'",
                                   [.real(Date().timeIntervalSince1970 + lease), .integer(claim.unit.id!), .text(claim.token)]) == 1
        }
    }

    /// Hands the unit of the claim with `token` back as pending, the attempt not counted: the
    /// worker was interrupted (SIGTERM, Ctrl-C), it did not die in it. Called by the interruption
    /// handler while it holds `writeLock`, so it writes without taking it.
    func releaseInterruptedClaim(token: String) {
        _ = try? engine.write { statements in
            let rows = try statements.query("SELECT job_id FROM sweep_unit WHERE claim_token = $1 AND status = 'running'", [.text(token)])
            guard case .integer(let jobID)? = rows.first?["job_id"] else { return }
            try statements.execute("""
                UPDATE sweep_unit SET status = 'pending', claim_token = NULL, lease_until = NULL,
                    attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                WHERE claim_token = $1 AND status = 'running'
                """, [.text(token)])
            try settleJob(jobID, statements)
        }
    }

    /// Records that the claimed unit failed with `error`: pending again for another try, or
    /// failed (and its job with it) after `maxAttempts` claims. False when the claim was lost.
    @discardableResult
    public func failUnit(_ claim: UnitClaim, error: String) throws -> Bool {
        try write { statements in
            guard var unit = try claimed(claim, statements) else { return false }
            unit.status = unit.attempts >= Self.maxAttempts ? .failed : .pending
            unit.error = error
            unit.claimToken = nil
            unit.leaseUntil = nil
            _ = try statements.update(unit)
            try settleJob(unit.jobID, statements)
            return true
        }
    }

    /// Stores the facts of the claimed model unit's job, starts its evaluation run (or takes a
    /// twin's: an earlier job of the sweep whose model removed the same units), and plans the
    /// job's bench unit and task shards. Returns the job as stored and its twin, if any; nil when
    /// the claim was lost.
    public func completeModelUnit(_ claim: UnitClaim, facts: JobModelFacts, seconds: Double) throws -> (job: SweepJob, twin: SweepJob?)? {
        try write { statements in
            guard var unit = try claimed(claim, statements) else { return nil }
            var job = try lockedJob(unit.jobID, statements)
            job.modelPath = facts.modelPath
            job.parameters = facts.parameters
            job.macsPerToken = facts.macsPerToken
            job.planHash = facts.planHash
            job.pruneDetail = facts.pruneDetail
            var twin: SweepJob?
            if job.evalRunID == nil, let hash = facts.planHash {
                twin = try statements.fetch(SweepJob.self, "WHERE sweep_id = $1 AND id <> $2 AND plan_hash = $3 AND eval_run_id IS NOT NULL ORDER BY position",
                                            [.integer(job.sweepID), .integer(job.id!), .text(hash)]).first
            }
            var position = 1
            func plan(_ kind: UnitKind, _ shard: TaskShard? = nil) throws {
                _ = try statements.insert(SweepUnit(sweepID: job.sweepID, jobID: job.id!, position: position, kind: kind, shard: shard))
                position += 1
            }
            if let twin {
                job.evalRunID = twin.evalRunID
                if job.tokensPerSecond == nil, twin.tokensPerSecond != nil {
                    (job.tokensPerSecond, job.denseTokensPerSecond, job.peakMemoryBytes) = (twin.tokensPerSecond, twin.denseTokensPerSecond, twin.peakMemoryBytes)
                }
            } else if job.evalRunID == nil {
                guard let run = facts.newRun else { throw FileError(path, "job \(job.spec.label) has no evaluation run to start") }
                job.evalRunID = try statements.insert(run)
            }
            if facts.measuresThroughput && job.tokensPerSecond == nil { try plan(.bench) }
            if twin == nil {
                let finished = Set(try statements.query("SELECT DISTINCT task FROM task_metric WHERE run_id = $1", [.integer(job.evalRunID!)])
                    .compactMap { row -> String? in if case .text(let task)? = row["task"] { return task } else { return nil } })
                for (task, count) in facts.taskItems where !finished.contains(task) {
                    for shard in TaskShard.shards(ofTask: task, count: count, shardSize: facts.shardSize ?? max(count, 1)) {
                        try plan(.shard, shard)
                    }
                }
            }
            _ = try statements.update(job)
            unit.status = .done
            unit.claimToken = nil
            unit.seconds = seconds
            _ = try statements.update(unit)
            return (try settleJob(job.id!, statements), twin)
        }
    }

    /// Stores the throughput the claimed bench unit measured (nil: not measured, the figures stay
    /// empty); false when the claim was lost.
    @discardableResult
    public func completeBenchUnit(_ claim: UnitClaim, throughput: JobThroughput?, seconds: Double) throws -> Bool {
        try write { statements in
            guard var unit = try claimed(claim, statements) else { return false }
            var job = try lockedJob(unit.jobID, statements)
            if let throughput {
                job.tokensPerSecond = throughput.tokensPerSecond
                job.denseTokensPerSecond = throughput.denseTokensPerSecond
                job.peakMemoryBytes = throughput.peakMemoryBytes
                _ = try statements.update(job)
            }
            unit.status = .done
            unit.claimToken = nil
            unit.seconds = seconds
            _ = try statements.update(unit)
            try settleJob(job.id!, statements)
            return true
        }
    }

    /// What storing a shard did.
    public enum ShardCompletion: Sendable {
        /// The claim was lost: another worker runs the unit; nothing was stored.
        case lost
        /// Stored; other shards of the task are not done yet.
        case stored
        /// Stored, and it was the task's last shard: the task's outcome, combined from every
        /// shard's stored documents or windows, is stored too.
        case taskDone(TaskOutcome)
    }

    /// Stores the claimed shard unit's documents or windows; when every shard of its task is
    /// done, combines them (`TaskOutcome(task:combining:)`) and stores the task's metrics.
    public func completeShardUnit(_ claim: UnitClaim, outcome: ShardOutcome) throws -> ShardCompletion {
        try write { statements in
            guard var unit = try claimed(claim, statements), let task = unit.task else { return .lost }
            let job = try lockedJob(unit.jobID, statements)
            guard let runID = job.evalRunID else { throw FileError(path, "job \(job.spec.label) has no evaluation run") }
            for sample in outcome.samples { try statements.upsert(try DocumentSample(runID: runID, sample)) }
            for window in outcome.windows { try statements.upsert(PerplexityWindow(runID: runID, task: task, window)) }
            unit.status = .done
            unit.claimToken = nil
            unit.seconds = outcome.seconds
            unit.tokensRun = outcome.tokensRun
            unit.naiveTokens = outcome.naiveTokens
            _ = try statements.update(unit)
            let shards = try statements.fetch(SweepUnit.self, "WHERE job_id = $1 AND kind = 'shard' AND task = $2 ORDER BY position",
                                              [.integer(job.id!), .text(task)])
            var completion = ShardCompletion.stored
            if shards.allSatisfy({ $0.status == .done }) {
                let combined = try TaskOutcome(task: task, combining: try storedShards(shards, runID: runID, statements))
                for metric in try TaskMetric.metrics(of: combined, runID: runID) { try statements.upsert(metric) }
                completion = .taskDone(combined)
            }
            try settleJob(job.id!, statements)
            return completion
        }
    }

    /// The outcomes of a task's shards as stored: each shard's documents or windows, and its counts.
    private func storedShards(_ shards: [SweepUnit], runID: Int64, _ statements: any StoreStatements) throws -> [ShardOutcome] {
        guard let task = shards.first?.task else { return [] }
        let samples = try statements.fetch(DocumentSample.self, "WHERE run_id = $1 AND task = $2 ORDER BY doc_index",
                                           [.integer(runID), .text(task)]).map { try $0.sample() }
        let windows = try statements.fetch(PerplexityWindow.self, "WHERE run_id = $1 AND task = $2 ORDER BY window_index",
                                           [.integer(runID), .text(task)]).map(\.window)
        return try shards.map { unit in
            guard let shard = unit.shard else { throw FileError(path, "shard unit \(unit.id ?? 0) has no items") }
            return ShardOutcome(shard: shard, samples: samples.filter { shard.items.contains($0.docIndex) },
                                windows: windows.filter { shard.items.contains($0.index) },
                                tokensRun: unit.tokensRun ?? 0, naiveTokens: unit.naiveTokens ?? 0, seconds: unit.seconds ?? 0)
        }
    }

    /// The claimed unit, locked, when the claim still holds.
    private func claimed(_ claim: UnitClaim, _ statements: any StoreStatements) throws -> SweepUnit? {
        let rows = try statements.query("SELECT * FROM sweep_unit u WHERE id = $1 \(statements.lockingClause(of: "u", skipLocked: false))",
                                        [.integer(claim.unit.id!)])
        guard let row = rows.first else { return nil }
        let unit = try RowDecoder.record(SweepUnit.self, from: row)
        return unit.status == .running && unit.claimToken == claim.token ? unit : nil
    }

    /// The job's row, locked until the transaction ends.
    private func lockedJob(_ id: Int64, _ statements: any StoreStatements) throws -> SweepJob {
        let rows = try statements.query("SELECT * FROM sweep_job j WHERE id = $1 \(statements.lockingClause(of: "j", skipLocked: false))",
                                        [.integer(id)])
        guard let row = rows.first else { throw FileError(path, "no sweep job \(id)") }
        return try RowDecoder.record(SweepJob.self, from: row)
    }

    /// Sets the job's status from its units (failed when one failed; done when all are; running
    /// while one is claimed; else pending), its attempts to its model unit's, and finishes its
    /// evaluation run when it is done. Returns the job as stored.
    @discardableResult
    func settleJob(_ id: Int64, _ statements: any StoreStatements) throws -> SweepJob {
        guard var job = try statements.fetch(SweepJob.self, "WHERE id = $1", [.integer(id)]).first else {
            throw FileError(path, "no sweep job \(id)")
        }
        let units = try statements.fetch(SweepUnit.self, "WHERE job_id = $1 ORDER BY position", [.integer(id)])
        let before = job
        if let failed = units.first(where: { $0.status == .failed }) {
            job.status = .failed
            job.error = failed.kind == .model ? failed.error : "\(failed.label): \(failed.error ?? "")"
        } else if units.allSatisfy({ $0.status == .done }) {
            job.status = .done
            job.error = nil
        } else {
            job.status = units.contains { $0.status == .running } ? .running : .pending
            job.error = nil
        }
        job.attempts = units.first { $0.kind == .model }?.attempts ?? job.attempts
        if job != before { _ = try statements.update(job) }
        if job.status == .done, before.status != .done, let runID = job.evalRunID {
            // A run shared with a twin keeps the time its own shards finished.
            let ranShards = units.contains { $0.kind == .shard }
            try statements.execute("UPDATE eval_run SET finished_at = $1 WHERE id = $2" + (ranShards ? "" : " AND finished_at IS NULL"),
                                   [.text(ISO8601DateFormatter().string(from: Date())), .integer(runID)])
        }
        return job
    }

    /// The units of a sweep, in plan order.
    public func units(sweepID: Int64) throws -> [SweepUnit] {
        try read { statements in
            try statements.query("""
                SELECT u.* FROM sweep_unit u JOIN sweep_job j ON j.id = u.job_id WHERE u.sweep_id = $1 ORDER BY j.position, u.position
                """, [.integer(sweepID)]).map { try RowDecoder.record(SweepUnit.self, from: $0) }
        }
    }

    /// How many units of a sweep are pending or running.
    public func unfinishedUnits(sweepID: Int64) throws -> Int {
        let rows = try read {
            try $0.query("SELECT COUNT(*) AS n FROM sweep_unit WHERE sweep_id = $1 AND status IN ('pending', 'running')", [.integer(sweepID)])
        }
        guard case .integer(let count)? = rows.first?["n"] else { return 0 }
        return Int(count)
    }
}
