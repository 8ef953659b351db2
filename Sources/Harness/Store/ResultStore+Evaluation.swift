import Foundation
import Runtime
import Tasks

extension ResultStore {
    /// Stores the start of an evaluation of `loaded` and returns the run with its id.
    public func startRun(of loaded: LoadedModel, sha256: String, evalProtocol: EvalProtocol, options: EvaluationOptions,
                         at time: Date = Date()) throws -> EvalRun {
        try insert(EvalRun(starting: loaded, sha256: sha256, evalProtocol: evalProtocol, options: options, at: time))
    }

    /// Stores one evaluated task of run `runID`: its metrics, per-document samples and perplexity
    /// windows, in one transaction.
    public func record(_ outcome: TaskOutcome, runID: Int64) throws {
        try record(try TaskMetric.metrics(of: outcome, runID: runID),
                   samples: try outcome.samples.map { try DocumentSample(runID: runID, $0) },
                   windows: outcome.windows.map { PerplexityWindow(runID: runID, task: outcome.task, $0) })
    }
}

extension EvalRun {
    /// The run of `loaded` (whose file has `sha256`) starting at `time`, on this host, by this build of bip.
    init(starting loaded: LoadedModel, sha256: String, evalProtocol: EvalProtocol, options: EvaluationOptions, at time: Date) {
        self.init(modelPath: loaded.path, modelSHA256: sha256, parameters: loaded.model.parameterCount,
                  evalProtocol: evalProtocol.rawValue, options: options.json,
                  bipVersion: BuildInfo.version, bipCommit: BuildInfo.commit, host: ProcessInfo.processInfo.hostName,
                  startedAt: ISO8601DateFormatter().string(from: time))
    }
}

extension TaskMetric {
    /// The stored metrics of `outcome`, each with the outcome's detail as sorted-key JSON.
    static func metrics(of outcome: TaskOutcome, runID: Int64) throws -> [TaskMetric] {
        let detail = String(decoding: try JSONSerialization.data(withJSONObject: outcome.detail, options: .sortedKeys), as: UTF8.self)
        return outcome.metrics.map {
            TaskMetric(runID: runID, task: outcome.task, metric: $0.name, value: $0.value, stderr: $0.stderr, n: $0.n, detail: detail)
        }
    }
}

extension DocumentSample {
    /// A document's sample as stored: its log-likelihoods, greedy flags and continuation lengths as JSON arrays.
    init(runID: Int64, _ sample: TaskOutcome.Sample) throws {
        let encoder = JSONEncoder()
        self.init(runID: runID, task: sample.task, docIndex: sample.docIndex,
                  loglikelihoods: String(decoding: try encoder.encode(sample.loglikelihoods), as: UTF8.self),
                  isGreedy: try sample.isGreedy.map { String(decoding: try encoder.encode($0), as: UTF8.self) },
                  continuationTokens: String(decoding: try encoder.encode(sample.continuationTokens), as: UTF8.self),
                  gold: sample.gold, predictionAcc: sample.predictionAcc, predictionAccNorm: sample.predictionAccNorm)
    }

    /// The sample as scored (JSON numbers read back give the same doubles).
    func sample() throws -> TaskOutcome.Sample {
        let decoder = JSONDecoder()
        return TaskOutcome.Sample(task: task, docIndex: docIndex,
                                  loglikelihoods: try decoder.decode([Double].self, from: Data(loglikelihoods.utf8)),
                                  isGreedy: try isGreedy.map { try decoder.decode([Bool].self, from: Data($0.utf8)) },
                                  continuationTokens: try decoder.decode([Int].self, from: Data(continuationTokens.utf8)),
                                  gold: gold, predictionAcc: predictionAcc, predictionAccNorm: predictionAccNorm)
    }
}

extension PerplexityWindow {
    init(runID: Int64, task: String, _ window: TaskOutcome.Window) {
        self.init(runID: runID, task: task, windowIndex: window.index, nllSum: window.nllSum, tokens: window.tokens)
    }

    var window: TaskOutcome.Window { TaskOutcome.Window(index: windowIndex, nllSum: nllSum, tokens: tokens) }
}
