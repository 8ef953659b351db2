import Foundation
import Runtime
import Tasks

extension ResultStore {
    /// Stores the start of an evaluation of `loaded` and returns the run with its id.
    public func startRun(of loaded: LoadedModel, sha256: String, evalProtocol: EvalProtocol, options: EvaluationOptions,
                         at time: Date = Date()) throws -> EvalRun {
        try insert(EvalRun(
            modelPath: loaded.path, modelSHA256: sha256, parameters: loaded.model.parameterCount,
            evalProtocol: evalProtocol.rawValue,
            options: options.json,
            bipVersion: BuildInfo.version, bipCommit: BuildInfo.commit, host: ProcessInfo.processInfo.hostName,
            startedAt: ISO8601DateFormatter().string(from: time)))
    }

    /// Stores one evaluated task of run `runID`: its metrics, per-document samples and perplexity
    /// windows, in one transaction.
    public func record(_ outcome: TaskOutcome, runID: Int64) throws {
        let detail = String(decoding: try JSONSerialization.data(withJSONObject: outcome.detail, options: .sortedKeys), as: UTF8.self)
        let encoder = JSONEncoder()
        try record(
            outcome.metrics.map {
                TaskMetric(runID: runID, task: outcome.task, metric: $0.name, value: $0.value, stderr: $0.stderr, n: $0.n, detail: detail)
            },
            samples: try outcome.samples.map {
                DocumentSample(runID: runID, task: outcome.task, docIndex: $0.docIndex,
                               loglikelihoods: String(decoding: try encoder.encode($0.loglikelihoods), as: UTF8.self),
                               continuationTokens: String(decoding: try encoder.encode($0.continuationTokens), as: UTF8.self),
                               gold: $0.gold, predictionAcc: $0.predictionAcc, predictionAccNorm: $0.predictionAccNorm)
            },
            windows: outcome.windows.map {
                PerplexityWindow(runID: runID, task: outcome.task, windowIndex: $0.index, nllSum: $0.nllSum, tokens: $0.tokens)
            })
    }
}
