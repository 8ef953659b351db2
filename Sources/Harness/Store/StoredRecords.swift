import Foundation
import Tasks

/// One evaluation run of one model: which model, under which protocol and options, by which
/// bip, on which host, from when to when.
public struct EvalRun: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "eval_run"
    static let key = ["id"]
    public var id: Int64?
    public var modelPath: String
    public var modelSHA256: String
    public var parameters: Int
    public var evalProtocol: String
    /// The run's options as JSON (tasks, limit, seq_len, data directory).
    public var options: String
    public var bipVersion: String
    /// Commit of the bip checkout that ran it, when known.
    public var bipCommit: String?
    public var host: String
    public var startedAt: String
    public var finishedAt: String?
    /// Where an imported run's results came from (`bip import lm-eval`); nil for a run bip made.
    public var source: ImportedRunSource?

    public init(id: Int64? = nil, modelPath: String, modelSHA256: String, parameters: Int, evalProtocol: String,
                options: String, bipVersion: String, bipCommit: String?, host: String, startedAt: String,
                finishedAt: String? = nil, source: ImportedRunSource? = nil) {
        self.id = id
        self.modelPath = modelPath
        self.modelSHA256 = modelSHA256
        self.parameters = parameters
        self.evalProtocol = evalProtocol
        self.options = options
        self.bipVersion = bipVersion
        self.bipCommit = bipCommit
        self.host = host
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.source = source
    }

    /// Whether the run was imported from another tool's result files rather than made by bip.
    public var isImported: Bool { source != nil }

    enum CodingKeys: String, CodingKey {
        case id, parameters, options, host, source
        case modelPath = "model_path", modelSHA256 = "model_sha256", evalProtocol = "protocol"
        case bipVersion = "bip_version", bipCommit = "bip_commit", startedAt = "started_at", finishedAt = "finished_at"
    }
}

/// One metric of one task in a run (tidy layout: a row per run × task × metric).
public struct TaskMetric: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "task_metric"
    static let key = ["run_id", "task", "metric"]
    public var runID: Int64
    public var task: String
    public var metric: String
    public var value: Double
    public var stderr: Double?
    /// Documents for accuracies, scored tokens for perplexity.
    public var n: Int
    /// Task-level details as JSON (windows, seq_len, tokens run, seconds …).
    public var detail: String?

    public init(runID: Int64, task: String, metric: String, value: Double, stderr: Double?, n: Int, detail: String?) {
        self.runID = runID
        self.task = task
        self.metric = metric
        self.value = value
        self.stderr = stderr
        self.n = n
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case task, metric, value, stderr, n, detail
        case runID = "run_id"
    }
}

/// One document of a zero-shot task in a run: the loglikelihood of each choice and the predictions.
public struct DocumentSample: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "document_sample"
    static let key = ["run_id", "task", "doc_index"]
    public var runID: Int64
    public var task: String
    public var docIndex: Int
    /// JSON arrays; `isGreedy` is NULL where it is not known (stored before bip computed it, or
    /// imported without it).
    public var loglikelihoods: String
    public var isGreedy: String?
    public var continuationTokens: String
    public var gold: Int
    public var predictionAcc: Int
    public var predictionAccNorm: Int?

    public init(runID: Int64, task: String, docIndex: Int, loglikelihoods: String, isGreedy: String? = nil, continuationTokens: String,
                gold: Int, predictionAcc: Int, predictionAccNorm: Int?) {
        self.runID = runID
        self.task = task
        self.docIndex = docIndex
        self.loglikelihoods = loglikelihoods
        self.isGreedy = isGreedy
        self.continuationTokens = continuationTokens
        self.gold = gold
        self.predictionAcc = predictionAcc
        self.predictionAccNorm = predictionAccNorm
    }

    /// The choice predicted under `metric`; nil for `acc_norm` on a task without it.
    public func prediction(_ metric: ZeroShotMetric) -> Int? {
        switch metric {
        case .acc: return predictionAcc
        case .accNorm: return predictionAccNorm
        }
    }

    enum CodingKeys: String, CodingKey {
        case task, loglikelihoods, gold
        case runID = "run_id", docIndex = "doc_index", isGreedy = "is_greedy", continuationTokens = "continuation_tokens"
        case predictionAcc = "prediction_acc", predictionAccNorm = "prediction_acc_norm"
    }
}

/// One window of a perplexity corpus in a run: the sum of its tokens' NLL (Float64) and how many
/// tokens it scored. Their NLL sums added in window order, divided by the tokens, give the
/// stored `ppl` back exactly (`perplexity(of:)`).
public struct PerplexityWindow: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "perplexity_window"
    static let key = ["run_id", "task", "window_index"]
    public var runID: Int64
    public var task: String
    public var windowIndex: Int
    public var nllSum: Double
    public var tokens: Int

    /// The mean NLL per token of `windows`, their sums added in the order given, as the
    /// evaluation computes it (`PerplexityEvaluator.meanNLL`).
    public static func meanNLL(of windows: some Collection<PerplexityWindow>) -> Double {
        PerplexityEvaluator.meanNLL(windowSums: windows.lazy.map(\.nllSum), tokens: windows.reduce(0) { $0 + $1.tokens })
    }

    /// exp(Σ NLL sums / Σ tokens), summed in the order given.
    public static func perplexity(of windows: [PerplexityWindow]) -> Double { exp(meanNLL(of: windows)) }

    enum CodingKeys: String, CodingKey {
        case task, tokens
        case runID = "run_id", windowIndex = "window_index", nllSum = "nll_sum"
    }
}
