/// A zero-shot metric of lm-evaluation-harness.
public enum ZeroShotMetric: String, Codable, CaseIterable, Sendable {
    /// Argmax of the loglikelihoods equals gold.
    case acc
    /// Argmax of loglikelihood / code-point length of the choice text equals gold.
    case accNorm = "acc_norm"
}

/// One multiple-choice document: a context and 2-5 continuations, of which `gold` is right.
///
/// Either the context is shared and each choice has its continuation (`contexts.count == 1`), or,
/// as in winogrande, each choice has its context and the continuation is shared
/// (`continuations.count == 1`).
public struct ZeroShotDocument: Equatable, Sendable {
    /// 0-based position in the data file; the document is on line `index + 1`.
    public let index: Int
    public let contexts: [String]
    /// Each with its leading space, as scored.
    public let continuations: [String]
    public let gold: Int
    /// The text of each choice without its leading space; its code-point length normalises
    /// `acc_norm`.
    public let choiceTexts: [String]

    public init(index: Int, contexts: [String], continuations: [String], gold: Int, choiceTexts: [String]) {
        self.index = index
        self.contexts = contexts
        self.continuations = continuations
        self.gold = gold
        self.choiceTexts = choiceTexts
    }

    public var choiceCount: Int { choiceTexts.count }

    /// The context scored for choice `i`.
    public func context(_ i: Int) -> String { contexts.count == 1 ? contexts[0] : contexts[i] }

    /// The continuation scored for choice `i`.
    public func continuation(_ i: Int) -> String { continuations.count == 1 ? continuations[0] : continuations[i] }
}

/// A zero-shot task: its documents in file order and the metrics it reports. Build one with
/// `ZeroShotTask.load(_:from:limit:)` from its entry in `TaskCatalog`.
public struct ZeroShotTask: Sendable {
    public let name: String
    /// The data file the documents come from, relative to the data directory.
    public let file: String
    public let documents: [ZeroShotDocument]
    public let metrics: [ZeroShotMetric]
    /// The metric the LLM-Pruner / LLM-BIP tables quote for this task.
    public let paperMetric: ZeroShotMetric

    public init(name: String, file: String, documents: [ZeroShotDocument], metrics: [ZeroShotMetric], paperMetric: ZeroShotMetric) {
        self.name = name
        self.file = file
        self.documents = documents
        self.metrics = metrics
        self.paperMetric = paperMetric
    }

    /// The task with only its first `limit` documents in file order (`nil`: all of them).
    public func limited(to limit: Int?) -> ZeroShotTask {
        guard let limit else { return self }
        return ZeroShotTask(name: name, file: file, documents: Array(documents.prefix(max(limit, 0))),
                            metrics: metrics, paperMetric: paperMetric)
    }

    /// Loads the zero-shot task `name` of `TaskCatalog` from `directory`, keeping the first
    /// `limit` documents. Any malformed record is a `DataError` naming file, line and field.
    public static func load(_ name: String, from directory: DataDirectory, limit: Int? = nil) throws -> ZeroShotTask {
        guard let spec = TaskCatalog.spec(name), case .zeroShot(let read, let metrics, let paperMetric, _) = spec.kind else {
            let known = TaskCatalog.all.filter { !$0.isPerplexity }.map(\.name)
            throw DataError(file: name, problem: "unknown task (known: \(known.joined(separator: ", ")))")
        }
        return ZeroShotTask(name: name, file: spec.file, documents: try read(spec.files, directory), metrics: metrics,
                            paperMetric: paperMetric).limited(to: limit)
    }
}
