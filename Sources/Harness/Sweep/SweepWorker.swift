import Foundation
import Runtime
import Tasks

/// Runs the units of stored sweeps, one claimed unit at a time (`ResultStore.claimUnit`), until
/// none is left or its time is nearly up: `bip worker` on each node of a cluster, and `bip sweep`
/// in its own process. A job's model unit makes (or finds in the shared cache) its model and
/// plans its bench unit and task shards; a bench unit measures the model's throughput; a shard
/// unit evaluates part of a task, and the worker that stores a task's last shard stores the
/// task's metrics. While the units left are claimed by other workers it waits, and takes a unit
/// over when its claim's lease runs out. A unit that fails is tried again, then recorded failed
/// with its error; the others go on.
public final class SweepWorker {
    /// One sweep the worker runs: its record and configuration.
    public struct Target: Sendable {
        public let record: SweepRecord
        public let config: SweepConfig

        public init(record: SweepRecord, config: SweepConfig) {
            self.record = record
            self.config = config
        }

        /// A stored sweep with the configuration it was planned from.
        public init(_ record: SweepRecord, in store: ResultStore) throws {
            self.init(record: record, config: try SweepConfig.stored(record, in: store))
        }
    }

    /// What a worker did.
    public struct Summary: Sendable, Equatable {
        /// Jobs of its sweeps done and failed when it stopped.
        public var done = 0
        public var failed = 0
        /// Tasks whose metrics it stored.
        public var tasksRun = 0
        /// It stopped because its time (`deadline`) was nearly up.
        public var outOfTime = false

        public init(done: Int = 0, failed: Int = 0, tasksRun: Int = 0, outOfTime: Bool = false) {
            self.done = done
            self.failed = failed
            self.tasksRun = tasksRun
            self.outOfTime = outOfTime
        }
    }

    public let store: ResultStore
    private let sweeps: [SweepContext]
    private let identity: WorkerIdentity
    private let lease: Double
    private let probe: ThroughputProbe?
    private let deadline: Date?
    private let progress: (String) -> Void
    private var lastReport = Date.distantPast
    private var longestUnit = 0.0

    /// A worker for `targets` of `store`. `lease`: seconds a claim holds without renewal;
    /// `deadline`: no unit is started that would likely not finish before it.
    public init(store: ResultStore, targets: [Target], data: DataDirectory, cache: PrunedModelCache = PrunedModelCache(),
                identity: WorkerIdentity = .current, lease: Double = 300, probe: ThroughputProbe?, deadline: Date? = nil,
                progress: @escaping (String) -> Void) {
        self.store = store
        sweeps = targets.map { SweepContext(target: $0, data: data, cache: cache, progress: progress) }
        self.identity = identity
        self.lease = lease
        self.probe = probe
        self.deadline = deadline
        self.progress = progress
    }

    /// A worker for one sweep.
    public convenience init(store: ResultStore, sweep: SweepRecord, config: SweepConfig, data: DataDirectory,
                            cache: PrunedModelCache = PrunedModelCache(), lease: Double = 300, probe: ThroughputProbe?,
                            progress: @escaping (String) -> Void) {
        self.init(store: store, targets: [Target(record: sweep, config: config)], data: data, cache: cache, lease: lease,
                  probe: probe, progress: progress)
    }

    /// Runs units until none of its sweeps has a unit pending or running, or its time is nearly up.
    public func run() throws -> Summary {
        var summary = Summary()
        var waitingSince: Date?
        while true {
            if let deadline, Date().addingTimeInterval(max(60, 1.5 * longestUnit)) > deadline {
                summary.outOfTime = true
                progress("worker \(identity.name): stopping, its time is nearly up")
                break
            }
            var claimed: (UnitClaim, SweepContext)?
            // Noted before the claim is written: a signal between the write and the unit's start
            // still finds it and hands the unit back.
            let token = UUID().uuidString
            SweepInterruption.holding(token)
            defer { SweepInterruption.holding(nil) }
            for sweep in sweeps {
                if let claim = try store.claimUnit(sweepID: sweep.id, worker: identity, lease: lease, token: token) {
                    claimed = (claim, sweep)
                    break
                }
            }
            guard let (claim, sweep) = claimed else {
                let unfinished = try sweeps.reduce(0) { $0 + (try store.unfinishedUnits(sweepID: $1.id)) }
                guard unfinished > 0 else { break }
                if waitingSince == nil {
                    waitingSince = Date()
                    progress("worker \(identity.name): \(unfinished) units left, claimed by other workers; waiting for them (or for their leases to run out)")
                }
                Thread.sleep(forTimeInterval: min(lease / 4, 2))
                continue
            }
            waitingSince = nil
            try run(claim, of: sweep, summary: &summary)
        }
        for sweep in sweeps {
            let jobs = try store.jobs(sweepID: sweep.id)
            summary.done += jobs.count { $0.status == .done }
            summary.failed += jobs.count { $0.status == .failed }
        }
        return summary
    }

    /// Runs one claimed unit with its lease renewed, and stores its result or its failure.
    private func run(_ claim: UnitClaim, of sweep: SweepContext, summary: inout Summary) throws {
        let keeper = LeaseKeeper(store: store, claim: claim, lease: lease)
        defer { keeper.stop() }
        let status = try SweepStatus(store: store, sweepID: sweep.id, config: sweep.config)
        let started = Date()
        let place = "job \(claim.job.position + 1)/\(status.jobs.count) (\(claim.job.spec.label)) \(claim.unit.label)"
        let state = String(format: "%d of %d jobs done", status.jobsDone, status.jobs.count)
            + (status.secondsLeft.map { ", ETA " + ProgressMeter.duration($0) } ?? "")
        report(sweep, "\(place); \(state)", force: true)
        do {
            let stored: Bool
            switch claim.unit.kind {
            case .model: stored = try runModel(claim, of: sweep, started: started)
            case .bench: stored = try runBench(claim, of: sweep, started: started)
            case .shard:
                stored = try runShard(claim, of: sweep, summary: &summary) { done, total in
                    self.report(sweep, "\(place) \(done)/\(total); \(state)")
                }
            }
            if !stored {
                progress("sweep \(sweep.name): \(claim.job.spec.label) \(claim.unit.label): taken over by another worker (this one's lease ran out); its result is discarded")
            }
        } catch {
            try store.failUnit(claim, error: "\(error)")
            let again = claim.unit.attempts < ResultStore.maxAttempts
            progress("sweep \(sweep.name): \(claim.job.spec.label) \(claim.unit.label) failed\(again ? " (to be tried again)" : ""): \(error)")
        }
        longestUnit = max(longestUnit, Date().timeIntervalSince(started))
    }

    /// Makes the job's model, then stores its facts, its evaluation run and its other units.
    private func runModel(_ claim: UnitClaim, of sweep: SweepContext, started: Date) throws -> Bool {
        let job = claim.job, spec = job.spec
        var detail = job.pruneDetail
        let source = try sweep.models.dense()
        let loaded = try sweep.keep(sweep.models.model(spec, detail: &detail), for: job)
        let evaluation = sweep.evaluation(of: loaded)
        let tasks = sweep.config.tasks(of: spec)
        let taskItems = try tasks.map { (task: $0, count: try sweep.items(of: $0, evaluation).count) }
        var newRun: EvalRun?
        if job.evalRunID == nil {
            let options = EvaluationOptions(
                tasks: tasks, limit: sweep.config.limit, documentLimit: sweep.config.documentLimit, seqLen: sweep.config.seqLen,
                data: sweep.data.url.path, compute: sweep.config.compute ?? .fp32,
                sweep: .init(name: sweep.name, method: spec.methodAndTune, sparsity: spec.sparsity, seed: spec.seed,
                             sourceSHA256: source.sha256, evalProtocol: sweep.config.evalProtocol,
                             calibration: try sweep.models.calibration(of: spec), tune: spec.tuned ? sweep.config.tune : nil,
                             pruning: spec.pruning.isEmpty ? nil : spec.pruning))
            newRun = EvalRun(starting: loaded, sha256: spec.isDense ? source.sha256 : try loaded.fileSHA256(),
                             evalProtocol: sweep.config.evalProtocol, options: options, at: Date())
        }
        let facts = JobModelFacts(
            modelPath: loaded.path, parameters: loaded.model.parameterCount, macsPerToken: ModelCost.macsPerToken(loaded.model, context: 128),
            planHash: try sweep.models.planHash(spec), pruneDetail: detail, newRun: newRun, taskItems: taskItems,
            shardSize: sweep.config.shardSize, measuresThroughput: probe != nil && sweep.config.benchSeconds > 0)
        guard let (_, twin) = try store.completeModelUnit(claim, facts: facts, seconds: Date().timeIntervalSince(started)) else { return false }
        if let twin {
            progress("sweep \(sweep.name): \(spec.label): removed the same units as \(twin.spec.label); its evaluation run \(twin.evalRunID!) is this job's too")
        }
        return true
    }

    /// Measures the job's throughput (in turn with the dense model's, averaged over the rounds)
    /// and peak memory; a measurement that fails leaves them empty (`bip sweep --remeasure`).
    private func runBench(_ claim: UnitClaim, of sweep: SweepContext, started: Date) throws -> Bool {
        var throughput: JobThroughput?
        do { throughput = try measure(claim.job, of: sweep) } catch {
            progress("sweep \(sweep.name): \(claim.job.spec.label): throughput not measured: \(error)")
        }
        return try store.completeBenchUnit(claim, throughput: throughput, seconds: Date().timeIntervalSince(started))
    }

    /// Evaluates the unit's shard; stores the task's metrics when it was the task's last.
    private func runShard(_ claim: UnitClaim, of sweep: SweepContext, summary: inout Summary,
                          status: @escaping (Int, Int) -> Void) throws -> Bool {
        guard let shard = claim.unit.shard else { throw FileError(store.path, "shard unit \(claim.unit.id ?? 0) has no items") }
        let loaded = try sweep.model(of: claim.job)
        let evaluation = sweep.evaluation(of: loaded)
        let items = try sweep.items(of: shard.task, evaluation)
        let outcome = try evaluation.run(shard, of: items, progress: status)
        switch try store.completeShardUnit(claim, outcome: outcome) {
        case .lost: return false
        case .stored: return true
        case .taskDone(let task):
            summary.tasksRun += 1
            progress("sweep \(sweep.name): \(claim.job.spec.label): "
                     + task.metrics.map { String(format: "%@ %@ %.4f", task.task, $0.name, $0.value) }.joined(separator: ", "))
            return true
        }
    }

    /// The job's throughput against the dense model's, measured interleaved, and peak memory.
    /// The models are found where this machine keeps them (made again when its cache lacks one),
    /// not at the path the job's model unit stored, which may be another host's.
    private func measure(_ job: SweepJob, of sweep: SweepContext) throws -> JobThroughput? {
        let config = sweep.config
        guard let probe, config.benchSeconds > 0 else { return nil }
        let path = try sweep.models.path(of: job.spec), dense = try sweep.models.dense().loaded.path
        var own: [Double] = [], other: [Double] = [], peak = 0
        for _ in 0..<config.benchRounds {
            let figures = try probe(path, job.isDense ? nil : dense, config.benchSeconds, config.compute ?? .fp32)
            own.append(figures.tokensPerSecond)
            other.append(figures.againstTokensPerSecond ?? figures.tokensPerSecond)
            peak = max(peak, figures.peakMemoryBytes)
        }
        return JobThroughput(tokensPerSecond: own.reduce(0, +) / Double(own.count),
                             denseTokensPerSecond: other.reduce(0, +) / Double(other.count), peakMemoryBytes: peak)
    }

    /// Which finished jobs `remeasure` measures again.
    public enum Remeasure: Sendable {
        /// Every one.
        case every
        /// The pruned jobs whose stored speed-up is implausible (`SweepJob.isImplausible`), the
        /// ones the report marks ¶.
        case implausible
    }

    /// Measures the throughput and memory of the finished jobs of its sweeps again (e.g. on a
    /// quieter machine), `which` of them, keeping everything else.
    public func remeasure(_ which: Remeasure = .every) throws {
        for sweep in sweeps {
            let jobs = try store.jobs(sweepID: sweep.id)
            let denseMACs = jobs.first(where: \.isDense)?.macsPerToken
            for var job in jobs where job.status == .done {
                if which == .implausible {
                    guard !job.isDense, SweepJob.isImplausible(speedup: job.speedup, macsPerToken: job.macsPerToken,
                                                               denseMACsPerToken: denseMACs) else { continue }
                }
                progress("sweep \(sweep.name): measuring \(job.spec.label)")
                do {
                    guard let figures = try measure(job, of: sweep) else { continue }
                    (job.tokensPerSecond, job.denseTokensPerSecond, job.peakMemoryBytes) = (figures.tokensPerSecond, figures.denseTokensPerSecond, figures.peakMemoryBytes)
                    try store.update(job)
                } catch {
                    progress("sweep \(sweep.name): \(job.spec.label): throughput not measured: \(error)")
                }
            }
        }
    }

    /// A status line, at most every 2 seconds unless `force`d.
    private func report(_ sweep: SweepContext, _ line: String, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastReport) >= 2 else { return }
        lastReport = now
        progress("sweep \(sweep.name): \(line)")
    }
}
