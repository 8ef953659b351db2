/// One evaluation task as data, after lm-evaluation-harness's task configurations: its name, its
/// title in reports, the data set and files it reads, how it reads them, and what it reports.
/// Every task is an entry of `TaskCatalog.all`.
public struct TaskSpec: Sendable {
    /// Reads a perplexity corpus's files (`files` of the spec) and joins them into the text
    /// that is tokenized.
    public typealias CorpusJoiner = @Sendable (_ files: [String], _ directory: DataDirectory) throws -> String
    /// Reads a zero-shot task's files (`files` of the spec) into its documents in file order:
    /// prompts, choices and gold. A malformed record is a `DataError` naming file, line and field.
    public typealias DocumentBuilder = @Sendable (_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument]

    /// What a task measures, with the reader that builds it from the data files.
    public enum Kind: Sendable {
        /// The perplexity of a joined text, cut into windows; reports `ppl` only.
        case perplexity(CorpusJoiner)
        /// Multiple choice scored by loglikelihood: the documents' reader, the metrics reported,
        /// the one the paper tables quote, and the number of choices of a document.
        case zeroShot(DocumentBuilder, metrics: [ZeroShotMetric], paperMetric: ZeroShotMetric, choices: Int)
    }

    /// The task name of lm-evaluation-harness (`wikitext2`, `boolq`, `arc_easy`, ...).
    public let name: String
    /// The column title in reports (`WikiText2`, `BoolQ`, `ARC-e`, ...).
    public let title: String
    /// The data set (manifest name in `datasets/`) holding the files.
    public let dataset: String
    /// The data files read, relative to the data directory; records and lines are numbered in
    /// the first.
    public let files: [String]
    public let kind: Kind

    public init(name: String, title: String, dataset: String, files: [String], kind: Kind) {
        self.name = name
        self.title = title
        self.dataset = dataset
        self.files = files
        self.kind = kind
    }

    /// The file a corpus's text or a task's documents come from.
    public var file: String { files[0] }

    public var isPerplexity: Bool {
        if case .perplexity = kind { return true }
        return false
    }

    /// The names of the metrics reported: `ppl`, or the zero-shot metrics (`acc`, `acc_norm`).
    public var metrics: [String] {
        switch kind {
        case .perplexity: return ["ppl"]
        case .zeroShot(_, let metrics, _, _): return metrics.map(\.rawValue)
        }
    }

    /// The metric the LLM-Pruner / LLM-BIP tables quote: `ppl`, `acc` or `acc_norm`.
    public var paperMetric: String {
        switch kind {
        case .perplexity: return "ppl"
        case .zeroShot(_, _, let paperMetric, _): return paperMetric.rawValue
        }
    }

    /// The accuracy of guessing uniformly among a document's choices; `nil` for a perplexity
    /// corpus. Where documents differ in their number of choices, see `chanceLevel(of:)`.
    public var chanceLevel: Double? {
        guard case .zeroShot(_, _, _, let choices) = kind else { return nil }
        return 1 / Double(choices)
    }

    /// The accuracy of guessing uniformly in each of `documents`: the mean of 1 / choices (NaN
    /// for no documents).
    public static func chanceLevel(of documents: [ZeroShotDocument]) -> Double {
        documents.map { 1 / Double($0.choiceCount) }.reduce(0, +) / Double(documents.count)
    }
}
