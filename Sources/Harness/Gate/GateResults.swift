import BIP
import Foundation
import Runtime
import Tasks

/// What identifies a result across runs and machines: the source model's sha256, how it was
/// pruned (method `dense` for the unpruned model), how it was evaluated, and the task and metric.
public struct ResultKey: Codable, Hashable, Sendable, Comparable {
    public var modelSHA256: String
    public var method: String
    public var sparsity: Double
    public var seed: Int64
    public var evalProtocol: String
    public var limit: Int?
    public var task: String
    public var metric: String
    /// The pruning's departures from the method's paper setting; nil (absent) when it has none,
    /// so a paper-setting result keeps the key it had before they existed.
    public var pruning: PruningOverrides?
    /// The sweep's document limit (every window); nil (absent) when not set, so the keys of
    /// results without it are those they had before it existed.
    public var documentLimit: Int?
    /// The arithmetic of the evaluation; nil (absent): `fp32`, so the keys of results without it
    /// are those they had before it existed.
    public var compute: ComputePrecision?

    enum CodingKeys: String, CodingKey {
        case method, sparsity, seed, limit, task, metric, pruning, compute
        case modelSHA256 = "model_sha256", evalProtocol = "protocol", documentLimit = "document_limit"
    }

    public var label: String {
        let shown = pruning.map { "\(method) (\($0.label))" } ?? method
        let how = method == "dense" ? "dense" : String(format: "%@ @ %.2f seed %lld", shown, sparsity, seed)
        return "\(how) \(task) \(metric)" + (limit.map { " (limit \($0))" } ?? "") + (documentLimit.map { " (documents \($0))" } ?? "")
            + (compute.map { " (\($0.rawValue))" } ?? "")
    }

    public static func < (a: ResultKey, b: ResultKey) -> Bool {
        if (a.modelSHA256, a.method, a.sparsity, a.seed) != (b.modelSHA256, b.method, b.sparsity, b.seed) {
            return (a.modelSHA256, a.method, a.sparsity, a.seed) < (b.modelSHA256, b.method, b.sparsity, b.seed)
        }
        if a.pruning != b.pruning { return (a.pruning?.key ?? "") < (b.pruning?.key ?? "") }
        if a.documentLimit != b.documentLimit { return (a.documentLimit ?? -1) < (b.documentLimit ?? -1) }
        if a.compute != b.compute { return (a.compute?.rawValue ?? "") < (b.compute?.rawValue ?? "") }
        return (a.evalProtocol, a.limit ?? -1, a.task, a.metric) < (b.evalProtocol, b.limit ?? -1, b.task, b.metric)
    }
}

/// One result of the gate: its value and, for accuracies, which documents were answered right
/// (a string of 0/1 in document order) so that a paired test can compare two of them.
public struct GateEntry: Codable, Equatable, Sendable {
    public var key: ResultKey
    public var value: Double
    public var stderr: Double?
    public var n: Int
    public var correct: String?
    /// The run it came from (informative).
    public var runID: Int64?

    enum CodingKeys: String, CodingKey {
        case key, value, stderr, n, correct
        case runID = "run_id"
    }
}

extension ResultStore {
    /// The newest stored result of every key (the highest run id that has it), optionally only
    /// from the runs of sweep `sweepName`. A run that several sweep jobs share (methods that made
    /// the same model) gives its results under each job's key.
    /// Imported runs (`bip import lm-eval`) are left out: they are references, not results of
    /// this checkout (see `importedBaseline`).
    public func newestResults(sweep sweepName: String? = nil) throws -> [GateEntry] {
        var newest: [ResultKey: GateEntry] = [:]
        let sharing = Dictionary(grouping: try read { try $0.fetch(SweepJob.self, "WHERE plan_hash IS NOT NULL AND eval_run_id IS NOT NULL ORDER BY id") },
                                 by: { $0.evalRunID! })
        for run in try runs() where !run.isImported {
            for entry in try entries(of: run, sweep: sweepName, sharing: sharing) { newest[entry.key] = entry }
        }
        return newest.values.sorted { $0.key < $1.key }
    }

    /// The results of imported run `runID` as a baseline for `current`. A file from another tool
    /// cannot name bip's source model sha256, protocol or limit, so each of its results takes the
    /// key of the current result with the same method, sparsity, seed, pruning, task and metric
    /// (of the newest run where several have one); one without a counterpart keeps its own key,
    /// and the gate reports it missing.
    public func importedBaseline(runID: Int64, for current: [GateEntry]) throws -> Baseline {
        guard let run = try run(id: runID), run.isImported else {
            throw FileError(path, "no imported run \(runID) (bip runs lists them; bip import lm-eval stores them)")
        }
        func loose(_ key: ResultKey) -> ResultKey {
            var key = key
            (key.modelSHA256, key.evalProtocol, key.limit, key.documentLimit) = ("", "", nil, nil)
            return key
        }
        var counterparts: [ResultKey: GateEntry] = [:]
        for entry in current where (counterparts[loose(entry.key)]?.runID ?? -1) < (entry.runID ?? -1) { counterparts[loose(entry.key)] = entry }
        return Baseline(entries: try entries(of: run, sweep: nil, sharing: [:]).map { entry in
            var entry = entry
            if let counterpart = counterparts[loose(entry.key)] { entry.key = counterpart.key }
            return entry
        })
    }

    /// Every result of `run` under its keys (one per sweep job sharing the run); none when
    /// `sweepName` is given and the run is not that sweep's.
    private func entries(of run: EvalRun, sweep sweepName: String?, sharing: [Int64: [SweepJob]]) throws -> [GateEntry] {
        var entries: [GateEntry] = []
        guard let id = run.id,
              let options = try? JSONSerialization.jsonObject(with: Data(run.options.utf8)) as? [String: Any] else { return [] }
        if let sweepName, options["sweep"] as? String != sweepName { return [] }
        let method = options["method"] as? String ?? "dense"
        let stored = try? JSONDecoder().decode(EvaluationOptions.self, from: Data(run.options.utf8))
        let base = ResultKey(
            modelSHA256: options["source_sha256"] as? String ?? run.modelSHA256, method: method,
            sparsity: options["sparsity"] as? Double ?? 0, seed: (options["seed"] as? NSNumber)?.int64Value ?? 0,
            evalProtocol: run.evalProtocol, limit: options["limit"] as? Int, task: "", metric: "",
            pruning: stored?.sweep?.pruning, documentLimit: stored?.documentLimit, compute: stored?.compute)
        var bases = [base]
        for job in sharing[id] ?? [] {
            var shared = base
            (shared.method, shared.sparsity, shared.seed) = (job.spec.methodAndTune, job.sparsity, job.seed)
            shared.pruning = job.pruning.isEmpty ? nil : job.pruning
            if !bases.contains(shared) { bases.append(shared) }
        }
        let metrics = try metrics(runID: id)
        var samplesByTask: [String: [DocumentSample]] = [:]
        for metric in metrics {
            var correct: String?
            if let kind = ZeroShotMetric(rawValue: metric.metric) {
                let samples = try samplesByTask[metric.task] ?? samples(runID: id, task: metric.task)
                samplesByTask[metric.task] = samples
                if samples.count == metric.n {
                    correct = String(samples.map { sample -> Character in
                        sample.prediction(kind) == sample.gold ? "1" : "0"
                    })
                }
            }
            for base in bases {
                var key = base
                key.task = metric.task
                key.metric = metric.metric
                entries.append(GateEntry(key: key, value: metric.value, stderr: metric.stderr, n: metric.n, correct: correct, runID: id))
            }
        }
        return entries
    }
}
