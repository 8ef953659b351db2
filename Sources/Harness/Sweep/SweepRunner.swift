import BIP
import Foundation
import Gradients
import Runtime
import Tasks

/// Runs the pending jobs of a stored sweep, in plan order: the dense model, then each pruned
/// model (from the cache, or pruned now and cached), its efficiency figures, and every task not
/// yet stored for it. Each finished task is one transaction, so a run killed at any moment and
/// started again continues where it stopped, without repeating or losing a task. A job that
/// fails is recorded with its error and the sweep goes on.
public final class SweepRunner {
    public let store: ResultStore
    public let sweep: SweepRecord
    public let config: SweepConfig
    public let data: DataDirectory
    public let cache: PrunedModelCache
    public let probe: ThroughputProbe?
    private let progress: (String) -> Void

    private var source: (loaded: LoadedModel, sha256: String)?
    /// Calibration sets by (source, seed), with their dense statistics once taken.
    private var calibrations: [String: (set: CalibrationSet, statistics: [LayerStatistics]?)] = [:]
    private var lastReport = Date.distantPast

    public init(store: ResultStore, sweep: SweepRecord, config: SweepConfig, data: DataDirectory,
                cache: PrunedModelCache = PrunedModelCache(), probe: ThroughputProbe?, progress: @escaping (String) -> Void) {
        self.store = store
        self.sweep = sweep
        self.config = config
        self.data = data
        self.cache = cache
        self.probe = probe
        self.progress = progress
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
                progress("sweep \(sweep.name): \(spec(of: job).label) failed: \(dead.error!)")
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
                progress("sweep \(sweep.name): \(spec(of: job).label) failed: \(error)")
                clock.skip(config.tasks.count + 1 - clock.unitsInJob)
            }
            clock.finishJob()
        }
        return summary
    }

    /// Runs of one job that may end with the process dying before it is given up.
    static let maxAttempts = 2

    private var tuningData: TuningData?

    private func spec(of job: SweepJob) -> SweepJobSpec {
        job.isDense ? .dense : SweepJobSpec(method: job.method, sparsity: job.sparsity, seed: UInt64(bitPattern: job.seed))
    }

    /// Runs one job to the end; returns the number of tasks evaluated now.
    private func run(_ original: SweepJob, clock: SweepClock) throws -> Int {
        var job = original
        let spec = spec(of: job)
        job.status = .running
        job.attempts += 1
        job.error = nil
        try store.update(job)
        clock.startJob(spec.label)

        let (sourceModel, sourceSHA) = try loadSource()
        let loaded: LoadedModel
        if spec.isDense {
            loaded = sourceModel
        } else if spec.isTuned {
            loaded = try tunedModel(spec, source: sourceModel, sha256: sourceSHA, job: &job)
        } else {
            loaded = try prunedModel(spec, source: sourceModel, sha256: sourceSHA, job: &job)
        }
        job.modelPath = loaded.path
        job.parameters = loaded.model.parameterCount
        job.macsPerToken = ModelCost.macsPerToken(loaded.model, context: 128)
        try store.update(job)
        if spec.isDense { clock.skip(1) } else { clock.advance(1) }

        if job.tokensPerSecond == nil {
            status(clock, "measuring throughput")
            do { try measure(&job, dense: sourceModel.path) } catch {
                // The figures stay empty (bip sweep --remeasure fills them); the evaluation goes on.
                progress("sweep \(sweep.name): \(spec.label): throughput not measured: \(error)")
            }
        }

        if job.evalRunID == nil {
            let options: [String: Any] = ["tasks": config.tasks, "limit": config.limit.map { $0 as Any } ?? NSNull(),
                                          "seq_len": config.seqLen, "data": data.url.path, "sweep": sweep.name,
                                          "method": spec.method, "sparsity": spec.sparsity, "seed": NSNumber(value: spec.seed),
                                          "source_sha256": sourceSHA, "protocol": config.evalProtocol,
                                          "calibration": spec.isDense ? NSNull() : try calibration(of: spec.pruningMethod) as Any,
                                          "tune": spec.isTuned ? (config.tune.flatMap { try? JSONSerialization.jsonObject(with: Data($0.json.utf8)) } ?? NSNull()) : NSNull()]
            let sha = spec.isDense ? sourceSHA : try loaded.fileSHA256()
            let run = try store.startRun(of: loaded, sha256: sha, evalProtocol: EvalProtocol(rawValue: config.evalProtocol)!, options: options)
            job.evalRunID = run.id
            try store.update(job)
        }
        let runID = job.evalRunID!
        let finished = try store.finishedTasks(runID: runID)
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: data)
        evaluation.evalProtocol = EvalProtocol(rawValue: config.evalProtocol)!
        evaluation.seqLen = config.seqLen
        evaluation.limit = config.limit
        var tasksRun = 0
        for task in config.tasks {
            if finished.contains(task) {
                clock.skip(1)
                continue
            }
            let outcome = try evaluation.run(task) { done, total in
                clock.within(Double(done) / Double(max(total, 1)))
                self.status(clock, "\(task) \(done)/\(total)")
            }
            try store.record(outcome, runID: runID)
            tasksRun += 1
            clock.advance(1)
            progress("sweep \(sweep.name): \(spec.label): " + outcome.metrics.map { String(format: "%@ %@ %.4f", task, $0.name, $0.value) }.joined(separator: ", "))
        }
        try store.finish(runID: runID, at: ISO8601DateFormatter().string(from: Date()))
        job.status = .done
        try store.update(job)
        return tasksRun
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
        let (sourceModel, _) = try loadSource()
        for var job in try store.jobs(sweepID: sweep.id!) where job.status == .done {
            progress("sweep \(sweep.name): measuring \(spec(of: job).label)")
            do { try measure(&job, dense: sourceModel.path) } catch {
                progress("sweep \(sweep.name): \(spec(of: job).label): throughput not measured: \(error)")
            }
        }
    }

    private func loadSource() throws -> (LoadedModel, String) {
        if let source { return source }
        let loaded = try LoadedModel.load(config.model, progress: progress)
        progress("hashing \(loaded.weightsFile)")
        let loadedSource = (loaded, try loaded.fileSHA256())
        source = loadedSource
        return loadedSource
    }

    /// The pruned model of `spec`: from the cache, or pruned now (sharing the dense calibration
    /// statistics of one seed across methods and sparsities) and cached.
    private func prunedModel(_ spec: SweepJobSpec, source: LoadedModel, sha256: String, job: inout SweepJob) throws -> LoadedModel {
        let recipe = PrunedModelCache.Recipe(sourceSHA256: sha256, method: spec.method, sparsity: spec.sparsity,
                                             seed: spec.seed, calibration: try calibration(of: spec.method))
        if let url = cache.cached(recipe) {
            progress("sweep \(sweep.name): \(spec.label): pruned model cached at \(url.path)")
            let loaded = try ModelDirectory.load(url)
            if job.pruneDetail == nil { job.pruneDetail = Self.detail(loaded.model, source: source.model, seconds: [:]) }
            return loaded
        }
        let method = try ImportanceMethods.named(spec.method, seed: spec.seed)
        var calibration: (set: CalibrationSet, statistics: [LayerStatistics]?)?
        if method.reads.readsCalibration {
            calibration = try calibrationData(try self.calibration(of: spec.method), seed: spec.seed, source: source,
                                              statistics: method.reads.readsDenseStatistics)
        }
        let started = Date()
        let outcome = try Pruner.prune(source.model, PruningRequest(method: method, sparsity: spec.sparsity),
                                       calibration: calibration?.set.sequences,
                                       statistics: calibration?.statistics, progress: progress)
        let url = try cache.store(outcome, recipe: recipe, calibration: calibration?.set, source: source)
        var seconds = Dictionary(outcome.seconds.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +)
        seconds["total"] = Date().timeIntervalSince(started)
        let loaded = try ModelDirectory.load(url)
        job.pruneDetail = Self.detail(loaded.model, source: source.model, seconds: seconds)
        return loaded
    }

    /// The tuned variant of a pruned model: from the cache, or tuned now from the (cached)
    /// pruned model and cached; a tune cut short by a killed sweep resumes from its checkpoint.
    private func tunedModel(_ spec: SweepJobSpec, source: LoadedModel, sha256: String, job: inout SweepJob) throws -> LoadedModel {
        guard let tune = config.tune else { throw FileError("sweep \(sweep.name)", "\(spec.label) needs the sweep's tune settings") }
        let tuneJSON = tune.json
        let recipe = PrunedModelCache.Recipe(sourceSHA256: sha256, method: spec.method, sparsity: spec.sparsity, seed: spec.seed,
                                             calibration: try calibration(of: spec.pruningMethod) + "|" + tuneJSON)
        if let url = cache.cached(recipe) {
            progress("sweep \(sweep.name): \(spec.label): tuned model cached at \(url.path)")
            let loaded = try ModelDirectory.load(url)
            if job.pruneDetail == nil { job.pruneDetail = Self.detail(loaded.model, source: source.model, seconds: [:]) }
            return loaded
        }
        var scratch = job
        let pruned = try prunedModel(spec.untuned, source: source, sha256: sha256, job: &scratch)
        if tuningData == nil {
            tuningData = tune.data == "c4"
                ? try TuningData.c4(data: data, file: CalibrationSet.c4File, tokenizer: pruned.tokenizer, cutoff: tune.options.cutoff)
                : try TuningData.alpaca(path: tune.data, tokenizer: pruned.tokenizer, cutoff: tune.options.cutoff)
        }
        let started = Date()
        let url = try cache.storeTuned(recipe: recipe, source: pruned, data: tuningData!,
                                       tune: RecoveryTune(options: tune.options, heldOut: tune.heldOut)) {
            self.progress("sweep \(self.sweep.name): \(spec.label): " + $0)
        }
        let loaded = try ModelDirectory.load(url)
        job.pruneDetail = Self.detail(loaded.model, source: source.model, seconds: ["tune": Date().timeIntervalSince(started)])
        return loaded
    }

    /// The calibration a method is pruned with: its paper's own (LLM-Pruner's 10 × 64) or the sweep's.
    private func calibration(of method: String) throws -> String {
        try ImportanceMethods.named(method).calibration(requested: nil, standard: CalibrationSource(parsing: config.calibration)).description
    }

    private func calibrationData(_ spec: String, seed: UInt64, source: LoadedModel,
                                 statistics: Bool) throws -> (set: CalibrationSet, statistics: [LayerStatistics]?) {
        let key = "\(spec) \(seed)"
        var entry = try calibrations[key] ?? (
            set: CalibrationSet.draw(try CalibrationSource(parsing: spec), seed: seed,
                                     tokenizer: source.tokenizer, data: data), statistics: nil)
        if statistics && entry.statistics == nil {
            progress("sweep \(sweep.name): calibration statistics on \(spec) seed \(seed) (shared by every method and sparsity)")
            entry.statistics = try CalibrationPass.statistics(model: source.model, sequences: entry.set.sequences, progress: progress)
        }
        calibrations[key] = entry
        return entry
    }

    /// The pruned model's shapes and counts against the source, as JSON.
    static func detail(_ model: LlamaModel, source: LlamaModel, seconds: [String: Double]) -> String {
        let before = ParameterAccounting(source), after = ParameterAccounting(model)
        let object: [String: Any] = [
            "sparsity_reached": 1 - Double(after.total) / Double(before.total),
            "attention_mlp_sparsity": 1 - Double(after.attentionAndMLP) / Double(before.attentionAndMLP),
            "parameters_before": before.total, "parameters_after": after.total,
            "layers": model.layers.map { ["heads": $0.queryHeads, "kv_heads": $0.kvHeads, "ffn": $0.ffnWidth] },
            "seconds": seconds,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self)
    }

    private func status(_ clock: SweepClock, _ what: String) {
        let now = Date()
        guard now.timeIntervalSince(lastReport) >= 2 else { return }
        lastReport = now
        progress("sweep \(sweep.name): " + clock.line(what))
    }
}
