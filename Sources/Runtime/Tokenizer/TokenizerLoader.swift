/// Reads a tokenizer without any weights, from a GGUF file (a model or a vocabulary-only file).
public enum TokenizerLoader {
    /// The tokenizer in a GGUF file's metadata, chosen by `tokenizer.ggml.model`: "gpt2" is a
    /// byte-level BPE, "llama" a SentencePiece BPE.
    public static func load(gguf: GGUFFile) throws -> any Tokenizer {
        switch try gguf.requireString("tokenizer.ggml.model") {
        case "gpt2": return try ByteLevelBPETokenizer(gguf: gguf)
        case "llama": return try SentencePieceBPETokenizer(gguf: gguf)
        case let other:
            throw ModelFileError(gguf.path, "tokenizer.ggml.model is '\(other)'; bip reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece BPE) tokenizers")
        }
    }
}
