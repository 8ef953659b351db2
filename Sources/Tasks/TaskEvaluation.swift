import Foundation
import Runtime

/// What evaluating one task measured: its metrics, details, and per-document samples.
public struct TaskOutcome: Sendable {
    /// One reported number: `ppl` with n = scored tokens, or an accuracy with its standard error.
    public struct Metric: Sendable, Equatable {
        public let name: String
        public let value: Double
        public let stderr: Double?
        public let n: Int
    }

    /// One document of a zero-shot task, enough to audit or re-score it without the model.
    public struct Sample: Sendable, Codable, Equatable {
        public let task: String
        public let docIndex: Int
        public let loglikelihoods: [Double]
        public let continuationTokens: [Int]
        public let gold: Int
        public let predictionAcc: Int
        public let predictionAccNorm: Int?

        enum CodingKeys: String, CodingKey {
            case task, gold, loglikelihoods
            case docIndex = "doc_index", continuationTokens = "continuation_tokens"
            case predictionAcc = "prediction_acc", predictionAccNorm = "prediction_acc_norm"
        }
    }

    /// One window of a perplexity corpus: the sum of its tokens' NLL and how many tokens it scored.
    public struct Window: Sendable, Equatable {
        public let nllSum: Double
        public let tokens: Int
    }

    public let task: String
    public let metrics: [Metric]
    /// Counts and timings: windows, seq_len, tokens_run, naive_tokens, seconds.
    public let detail: [String: Double]
    public let samples: [Sample]
    /// The windows of a perplexity corpus in order (empty for a zero-shot task).
    public var windows: [Window] = []
}

/// Runs the tasks of `bip eval` on a model: perplexity corpora and zero-shot tasks.
public struct TaskEvaluation {
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    public let data: DataDirectory
    public var evalProtocol: EvalProtocol = .llmPruner
    public var seqLen = 128
    /// The first N documents of each zero-shot task; nil: all.
    public var documentLimit: Int?
    /// The first N windows of each perplexity corpus; nil: all.
    public var windowLimit: Int?

    public init(model: LlamaModel, tokenizer: any Tokenizer, data: DataDirectory) {
        self.model = model
        self.tokenizer = tokenizer
        self.data = data
    }

    /// Evaluates task `name` of `TaskCatalog` after checking its data files against their
    /// manifest (sizes and sha256, cached in the data directory); `progress(done, total)` as it goes.
    public func run(_ name: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> TaskOutcome {
        let started = Date()
        guard let spec = TaskCatalog.spec(name) else {
            throw DataError(file: name, problem: "unknown task (known: \(TaskCatalog.names.joined(separator: ", ")))")
        }
        try DataVerifier(dataDirectory: data).verify(try DatasetManifest.load(spec.dataset))
        if spec.isPerplexity {
            let corpus = try PerplexityCorpus.load(name, from: data)
            var windows = PerplexityCorpus.windows(corpus.tokens(tokenizer), seqLen: seqLen)
            if let windowLimit { windows = Array(windows.prefix(windowLimit)) }
            guard !windows.isEmpty else {
                throw DataError(file: corpus.file, problem: "no window of \(seqLen) tokens")
            }
            let result = PerplexityEvaluator(model: model).evaluate(windows, seqLen: seqLen, progress: progress)
            return TaskOutcome(
                task: name, metrics: [.init(name: "ppl", value: result.perplexity, stderr: nil, n: result.tokens)],
                detail: ["windows": Double(result.windows), "seq_len": Double(seqLen), "tokens_run": Double(result.windows * seqLen),
                         "naive_tokens": Double(result.windows * seqLen), "seconds": Date().timeIntervalSince(started)],
                samples: [], windows: result.windowNLL.map { .init(nllSum: $0, tokens: seqLen - 1) })
        }
        let task = try ZeroShotTask.load(name, from: data, limit: documentLimit)
        let requests = try task.documents.map {
            try evalProtocol.requests(for: $0, of: task, tokenizer: tokenizer, maxTokens: model.config.contextLength + 1)
        }
        let scorer = LoglikelihoodScorer(model: model)
        let loglikelihoods = scorer.score(requests, progress: progress)
        let values = try ZeroShotScoring.evaluate(task, loglikelihoods: loglikelihoods)
        var metrics: [TaskOutcome.Metric] = []
        for metric in task.metrics {
            let v = values[metric]!
            metrics.append(.init(name: metric.rawValue, value: v.mean, stderr: v.stderr.isNaN ? nil : v.stderr, n: v.n))
        }
        let samples = zip(task.documents, zip(requests, loglikelihoods)).map { document, pair in
            TaskOutcome.Sample(
                task: name, docIndex: document.index, loglikelihoods: pair.1,
                continuationTokens: pair.0.map(\.continuationTokens.count), gold: document.gold,
                predictionAcc: ZeroShotScoring.argmax(pair.1),
                predictionAccNorm: task.metrics.contains(.accNorm)
                    ? ZeroShotScoring.argmax(zip(pair.1, document.choiceTexts).map { $0 / Double($1.unicodeScalars.count) }) : nil)
        }
        return TaskOutcome(
            task: name, metrics: metrics,
            detail: ["documents": Double(task.documents.count), "tokens_run": Double(scorer.tokensRun),
                     "naive_tokens": Double(scorer.naiveTokens), "seconds": Date().timeIntervalSince(started)],
            samples: samples)
    }
}
