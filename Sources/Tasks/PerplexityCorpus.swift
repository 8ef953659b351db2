import Runtime

/// The text a perplexity benchmark tokenizes, and its cutting into windows, as LLM-Pruner does it.
public struct PerplexityCorpus: Sendable {
    public let name: String
    /// The data file the text comes from, relative to the data directory.
    public let file: String
    /// The whole joined text.
    public let text: String

    public init(name: String, file: String, text: String) {
        self.name = name
        self.file = file
        self.text = text
    }

    /// Loads the perplexity corpus `name` of `TaskCatalog` from `directory`.
    public static func load(_ name: String, from directory: DataDirectory) throws -> PerplexityCorpus {
        guard let spec = TaskCatalog.spec(name), case .perplexity(let join) = spec.kind else {
            let known = TaskCatalog.all.filter(\.isPerplexity).map(\.name)
            throw DataError(file: name, problem: "unknown perplexity corpus (known: \(known.joined(separator: ", ")))")
        }
        return PerplexityCorpus(name: name, file: spec.file, text: try join(spec.files, directory))
    }

    /// The token ids of the whole text, special-token strings such as `<unk>` kept as plain text,
    /// with one BOS at the very start if the tokenizer adds BOS by default.
    public func tokens(_ tokenizer: any Tokenizer) -> [Int] {
        let ids = tokenizer.encode(text, parseSpecial: false)
        guard tokenizer.addsBOS, let bos = tokenizer.bosID else { return ids }
        return [bos] + ids
    }

    /// `tokens` cut into non-overlapping windows of `seqLen`; the remainder is dropped.
    public static func windows(_ tokens: [Int], seqLen: Int) -> [ArraySlice<Int>] {
        guard seqLen > 0 else { return [] }
        return (0..<(tokens.count / seqLen)).map { tokens[($0 * seqLen)..<(($0 + 1) * seqLen)] }
    }
}
