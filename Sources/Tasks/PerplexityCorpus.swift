import Runtime

/// The text a perplexity benchmark tokenizes, and its cutting into windows, as LLM-Pruner does it.
public struct PerplexityCorpus: Sendable {
    /// The corpora: `wikitext2` (test split) and `ptb` (validation split).
    public static let names = ["wikitext2", "ptb"]

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

    /// `wikitext2`: the `text` field of every test row (blank rows included) joined with "\n\n".
    /// `ptb`: every validation line stripped (Python `strip`) and joined with "\n\n".
    public static func load(_ name: String, from directory: DataDirectory) throws -> PerplexityCorpus {
        switch name {
        case "wikitext2":
            let file = "wikitext2/wikitext-2-raw-v1.test.jsonl"
            let rows = try DataFile.jsonLines(file, in: directory).map { try $0.string("text") }
            return PerplexityCorpus(name: name, file: file, text: rows.joined(separator: "\n\n"))
        case "ptb":
            let file = "ptb/ptb.valid.txt"
            let lines = try DataFile.lines(file, in: directory).map(PythonString.strip)
            return PerplexityCorpus(name: name, file: file, text: lines.joined(separator: "\n\n"))
        default:
            throw DataError(file: name, problem: "unknown perplexity corpus (known: \(names.joined(separator: ", ")))")
        }
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
