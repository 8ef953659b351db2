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
        /// Whether each choice's continuation is what greedy decoding would produce; nil when not
        /// known (a sample stored before bip computed it, or imported without it).
        public let isGreedy: [Bool]?
        public let continuationTokens: [Int]
        public let gold: Int
        public let predictionAcc: Int
        public let predictionAccNorm: Int?

        public init(task: String, docIndex: Int, loglikelihoods: [Double], isGreedy: [Bool]?, continuationTokens: [Int], gold: Int,
                    predictionAcc: Int, predictionAccNorm: Int?) {
            self.task = task
            self.docIndex = docIndex
            self.loglikelihoods = loglikelihoods
            self.isGreedy = isGreedy
            self.continuationTokens = continuationTokens
            self.gold = gold
            self.predictionAcc = predictionAcc
            self.predictionAccNorm = predictionAccNorm
        }

        enum CodingKeys: String, CodingKey {
            case task, gold, loglikelihoods
            case docIndex = "doc_index", isGreedy = "is_greedy", continuationTokens = "continuation_tokens"
            case predictionAcc = "prediction_acc", predictionAccNorm = "prediction_acc_norm"
        }

        /// The choice predicted under `metric`; nil for `acc_norm` on a task without it.
        public func prediction(_ metric: ZeroShotMetric) -> Int? {
            switch metric {
            case .acc: return predictionAcc
            case .accNorm: return predictionAccNorm
            }
        }
    }

    /// One window of a perplexity corpus: its position in the corpus, the sum of its tokens' NLL
    /// and how many tokens it scored.
    public struct Window: Sendable, Equatable {
        public let index: Int
        public let nllSum: Double
        public let tokens: Int

        public init(index: Int, nllSum: Double, tokens: Int) {
            self.index = index
            self.nllSum = nllSum
            self.tokens = tokens
        }
    }

    public let task: String
    public let metrics: [Metric]
    /// Counts and timings: windows, seq_len, tokens_run, naive_tokens, seconds.
    public let detail: [String: Double]
    public let samples: [Sample]
    /// The windows of a perplexity corpus in order (empty for a zero-shot task).
    public var windows: [Window] = []
}

/// Runs the tasks of `bip eval` on a model: perplexity corpora and zero-shot tasks, whole or
/// shard by shard (`TaskShard`); either way through `run(_:of:)` and `TaskOutcome(task:combining:)`.
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

    /// Evaluates task `name` of `TaskCatalog`: its items in shards of `shardSize` (nil: one shard
    /// of every item), each on its own, combined into the task's outcome; the metrics do not
    /// depend on the shard size. `progress(done, total)` counts items.
    public func run(_ name: String, shardSize: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) throws -> TaskOutcome {
        let items = try items(of: name)
        let shards = TaskShard.shards(ofTask: name, count: items.count, shardSize: shardSize ?? max(items.count, 1))
        let outcomes = try shards.map { shard in
            try run(shard, of: items) { done, _ in progress(shard.first + done, items.count) }
        }
        return try TaskOutcome(task: name, combining: outcomes)
    }

    /// The items of task `name` of `TaskCatalog` under this evaluation's limits and `seqLen`, after
    /// checking its data files against their manifest (sizes and sha256, cached in the data
    /// directory).
    public func items(of name: String) throws -> TaskItems {
        guard let spec = TaskCatalog.spec(name) else {
            throw DataError(file: name, problem: "unknown task (known: \(TaskCatalog.names.joined(separator: ", ")))")
        }
        try DataVerifier(dataDirectory: data).verify(try DatasetManifest.load(spec.dataset))
        guard spec.isPerplexity else {
            return TaskItems(task: name, content: .documents(try ZeroShotTask.load(name, from: data, limit: documentLimit)))
        }
        let corpus = try PerplexityCorpus.load(name, from: data)
        var windows = PerplexityCorpus.windows(corpus.tokens(tokenizer), seqLen: seqLen)
        if let windowLimit { windows = Array(windows.prefix(windowLimit)) }
        guard !windows.isEmpty else {
            throw DataError(file: corpus.file, problem: "no window of \(seqLen) tokens")
        }
        return TaskItems(task: name, content: .windows(windows, seqLen: seqLen))
    }

    /// Evaluates the items of `shard` alone, out of `items`: each window's NLL sum, or each
    /// document's sample, with its index in the task. A window's or a document's result does not
    /// depend on the other items evaluated with it. `progress(done, total)` counts the shard's items.
    public func run(_ shard: TaskShard, of items: TaskItems, progress: (Int, Int) -> Void = { _, _ in }) throws -> ShardOutcome {
        guard shard.task == items.task, shard.first >= 0, shard.count >= 0, shard.first + shard.count <= items.count else {
            throw DataError(file: shard.task, problem: "shard \(shard.index) (items \(shard.first)..<\(shard.first + shard.count)) "
                            + "is not part of \(items.task)'s \(items.count) items")
        }
        let started = Date()
        switch items.content {
        case .windows(let windows, let seqLen):
            let result = PerplexityEvaluator(model: model).evaluate(Array(windows[shard.items]), seqLen: seqLen, progress: progress)
            return ShardOutcome(
                shard: shard, samples: [],
                windows: result.windowNLL.enumerated().map { .init(index: shard.first + $0.offset, nllSum: $0.element, tokens: seqLen - 1) },
                tokensRun: shard.count * seqLen, naiveTokens: shard.count * seqLen, seconds: Date().timeIntervalSince(started))
        case .documents(let task):
            let documents = task.documents[shard.items]
            let requests = try documents.map {
                try evalProtocol.requests(for: $0, of: task, tokenizer: tokenizer, maxTokens: model.config.contextLength + 1)
            }
            let scorer = LoglikelihoodScorer(model: model)
            let scores = scorer.score(requests, progress: progress)
            let samples = zip(documents, zip(requests, scores)).map { document, scored in
                let loglikelihoods = scored.1.map(\.loglikelihood)
                return TaskOutcome.Sample(
                    task: task.name, docIndex: document.index, loglikelihoods: loglikelihoods, isGreedy: scored.1.map(\.isGreedy),
                    continuationTokens: scored.0.map(\.continuationTokens.count), gold: document.gold,
                    predictionAcc: ZeroShotScoring.prediction(document, loglikelihoods: loglikelihoods, metric: .acc),
                    predictionAccNorm: task.metrics.contains(.accNorm)
                        ? ZeroShotScoring.prediction(document, loglikelihoods: loglikelihoods, metric: .accNorm) : nil)
            }
            return ShardOutcome(shard: shard, samples: samples, windows: [], tokensRun: scorer.tokensRun,
                                naiveTokens: scorer.naiveTokens, seconds: Date().timeIntervalSince(started))
        }
    }
}
