import Foundation
import Runtime
import Tasks

/// Runs the pending jobs of a stored sweep, in plan order: the dense model, then each pruned
/// model (`SweepModels`), its efficiency figures, and every task not yet stored for it
/// (`SweepEvaluation`). Each finished task is one transaction, so a run killed at any moment and
/// started again continues where it stopped, without repeating or losing a task. A job whose
/// model removed the same units as another job's (equal `SweepJob.planHash`) takes that job's
/// evaluation run instead of evaluating the same model again. A job that fails is recorded with
/// its error and the sweep goes on.
public final class SweepRunner {
    public let store: ResultStore
    public let sweep: SweepRecord
    public let config: SweepConfig
    public let data: DataDirectory
    public let probe: ThroughputProbe?
    private let progress: (String) -> Void
    private let models: SweepModels
    private let evaluation: SweepEvaluation
    private var lastReport = Date.distantPast

    public init(store: ResultStore, sweep: SweepRecord, config: SweepConfig, data: DataDirectory,
                cache: PrunedModelCache = PrunedModelCache(), probe: ThroughputProbe?, progress: @escaping (String) -> Void) {
        self.store = store
        self.sweep = sweep
        self.config = config
        self.data = data
        self.probe = probe
        self.progress = progress
        models = SweepModels(config: config, data: data, cache: cache, sweepName: sweep.name, progress: progress)
        evaluation = SweepEvaluation(store: store, config: config, data: data, sweepName: sweep.name, progress: progress)
    }

    /// What a run of the sweep did.
    public struct Summary: Sendable, Equatable {
        public var done = 0
        public var failed = 0
        public var tasksRun = 0
    }

    /// Runs every job that is not done (a job left `running` by a killed run is taken up again;
    /// failed jobs are left alone, see `ResultStore.resetFailed`).
    public func run() throws -> Summary {
        let jobs = try store.jobs(sweepID: sweep.id!)
        let todo = jobs.filter { $0.status == .pending || $0.status == .running }
        var summary = Summary()
        summary.done = jobs.count { $0.status == .done }
        let clock = SweepClock(jobsTotal: jobs.count, jobsDone: summary.done, jobsToRun: todo.count, unitsPerJob: config.tasks.count + 1)
        for job in todo {
            if job.status == .running && job.attempts >= Self.maxAttempts {
                // Taken up twice and never finished or failed: the process itself died in it
                // (a trap, the OOM killer). Give up on it so the jobs after it can run.
                var dead = job
                dead.status = .failed
                dead.error = "the process died during this job \(job.attempts) times; bip sweep --retry-failed tries again"
                try store.update(dead)
                summary.failed += 1
                progress("sweep \(sweep.name): \(job.spec.label) failed: \(dead.error!)")
                clock.skip(config.tasks.count + 1)
                clock.finishJob()
                continue
            }
            do {
                summary.tasksRun += try run(job, clock: clock)
                summary.done += 1
            } catch {
                var failed = try store.jobs(sweepID: sweep.id!).first { $0.id == job.id } ?? job
                failed.status = .failed
                failed.error = "\(error)"
                try store.update(failed)
                summary.failed += 1
                progress("sweep \(sweep.name): \(job.spec.label) failed: \(error)")
                clock.skip(config.tasks.count + 1 - clock.unitsInJob)
            }
            clock.finishJob()
        }
        return summary
    }

    /// Runs of one job that may end with the process dying before it is given up.
    static let maxAttempts = 2

    /// Runs one job to the end; returns the number of tasks evaluated now.
    private func run(_ original: SweepJob, clock: SweepClock) throws -> Int {
        var job = original
        let spec = job.spec
        job.status = .running
        job.attempts += 1
        job.error = nil
        try store.update(job)
        clock.startJob(spec.label)
        let tasks = config.tasks(of: spec)
        clock.skip(config.tasks.count - tasks.count)

        let source = try models.dense()
        let loaded = try models.model(spec, detail: &job.pruneDetail)
        job.modelPath = loaded.path
        job.parameters = loaded.model.parameterCount
        job.macsPerToken = ModelCost.macsPerToken(loaded.model, context: 128)
        job.planHash = try models.planHash(spec)
        if job.evalRunID == nil, let twin = try twin(of: job) {
            // The same model as the twin's: its evaluation run (and throughput, if measured) are this job's too.
            job.evalRunID = twin.evalRunID
            if job.tokensPerSecond == nil, twin.tokensPerSecond != nil {
                (job.tokensPerSecond, job.denseTokensPerSecond, job.peakMemoryBytes) = (twin.tokensPerSecond, twin.denseTokensPerSecond, twin.peakMemoryBytes)
            }
            progress("sweep \(sweep.name): \(spec.label): removed the same units as \(twin.spec.label); its evaluation run \(twin.evalRunID!) is this job's too")
        }
        try store.update(job)
        if spec.isDense { clock.skip(1) } else { clock.advance(1) }

        if job.tokensPerSecond == nil {
            status(clock, "measuring throughput")
            do { try measure(&job, dense: source.loaded.path) } catch {
                // The figures stay empty (bip sweep --remeasure fills them); the evaluation goes on.
                progress("sweep \(sweep.name): \(spec.label): throughput not measured: \(error)")
            }
        }

        let options = EvaluationOptions(
            tasks: tasks, limit: config.limit, documentLimit: config.documentLimit, seqLen: config.seqLen, data: data.url.path,
            sweep: .init(name: sweep.name, method: spec.methodAndTune, sparsity: spec.sparsity, seed: spec.seed,
                         sourceSHA256: source.sha256, evalProtocol: config.evalProtocol,
                         calibration: try models.calibration(of: spec), tune: spec.tuned ? config.tune : nil,
                         pruning: spec.pruning.isEmpty ? nil : spec.pruning))
        let tasksRun = try evaluation.evaluate(&job, model: loaded, modelSHA256: { spec.isDense ? source.sha256 : try loaded.fileSHA256() },
                                               options: options, clock: clock) { self.status(clock, $0) }
        job.status = .done
        try store.update(job)
        return tasksRun
    }

    /// Another job of the sweep that made the same model as `job` (equal removal plan hashes)
    /// and whose evaluation run is done or has stored tasks, the first in plan order. A twin that
    /// failed before storing a task is no twin: the job evaluates its model itself.
    private func twin(of job: SweepJob) throws -> SweepJob? {
        guard let hash = job.planHash else { return nil }
        for other in try store.jobs(sweepID: sweep.id!) where other.id != job.id && other.planHash == hash {
            guard let runID = other.evalRunID else { continue }
            if try other.status == .done || !store.finishedTasks(runID: runID).isEmpty { return other }
        }
        return nil
    }

    /// The job's throughput (in turn with the dense model's, averaged over the rounds) and peak
    /// memory, when the sweep measures them.
    private func measure(_ job: inout SweepJob, dense: String) throws {
        guard let probe, config.benchSeconds > 0, let path = job.modelPath else { return }
        var own: [Double] = [], other: [Double] = [], peak = 0
        for _ in 0..<config.benchRounds {
            let figures = try probe(path, job.isDense ? nil : dense, config.benchSeconds)
            own.append(figures.tokensPerSecond)
            other.append(figures.againstTokensPerSecond ?? figures.tokensPerSecond)
            peak = max(peak, figures.peakMemoryBytes)
        }
        job.tokensPerSecond = own.reduce(0, +) / Double(own.count)
        job.denseTokensPerSecond = other.reduce(0, +) / Double(other.count)
        job.peakMemoryBytes = peak
        try store.update(job)
    }

    /// Measures the throughput and memory of every finished job again (e.g. on a quieter
    /// machine), keeping everything else.
    public func remeasure() throws {
        let dense = try models.dense().loaded.path
        for var job in try store.jobs(sweepID: sweep.id!) where job.status == .done {
            progress("sweep \(sweep.name): measuring \(job.spec.label)")
            do { try measure(&job, dense: dense) } catch {
                progress("sweep \(sweep.name): \(job.spec.label): throughput not measured: \(error)")
            }
        }
    }

    private func status(_ clock: SweepClock, _ what: String) {
        let now = Date()
        guard now.timeIntervalSince(lastReport) >= 2 else { return }
        lastReport = now
        progress("sweep \(sweep.name): " + clock.line(what))
    }
}
