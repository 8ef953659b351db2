/// How text is cut into pieces before byte-pair merging (merges never cross a piece boundary),
/// named as GGUF's `tokenizer.ggml.pre` names it.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// SmolLM: every `\p{N}` scalar is a piece of its own; the text between is split by the
    /// GPT-2 pattern.
    case smollm
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// LLaMA-3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llamaBPE = "llama-bpe"
    /// Qwen2: the LLaMA-3 pattern with `\p{N}` taken one scalar at a time.
    case qwen2

    /// Whether a piece spelling a whole vocabulary token becomes that token without merging,
    /// as llama.cpp and HF `tokenizers` (`ignore_merges`) do for LLaMA-3.
    var ignoresMerges: Bool { self == .llamaBPE }

    /// Appends the pieces of the scalars `range` of `text` to `pieces`, in order.
    func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        switch self {
        case .gpt2:
            GPT2Pattern.split(text, range, into: &pieces)
        case .llamaBPE:
            Llama3Pattern(maxDigits: 3).split(text, range, into: &pieces)
        case .qwen2:
            Llama3Pattern(maxDigits: 1).split(text, range, into: &pieces)
        case .smollm:
            var start = range.lowerBound
            for position in range where text.classes[position] == .number {
                GPT2Pattern.split(text, start..<position, into: &pieces)
                pieces.append(position..<position + 1)
                start = position + 1
            }
            GPT2Pattern.split(text, start..<range.upperBound, into: &pieces)
        }
    }

    /// The pieces `string` is cut into.
    func pieces(of string: String) -> [String] {
        let text = ScalarText(string)
        var pieces: [Range<Int>] = []
        split(text, 0..<text.count, into: &pieces)
        let bytes = Array(string.utf8)
        return pieces.map { String(decoding: bytes[text.byteRange(of: $0)], as: UTF8.self) }
    }
}
