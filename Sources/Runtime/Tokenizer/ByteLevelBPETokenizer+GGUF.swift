extension ByteLevelBPETokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata. The file must hold a
    /// byte-level BPE (`tokenizer.ggml.model` "gpt2") with a known `tokenizer.ggml.pre`.
    public init(gguf: GGUFFile) throws {
        let file = gguf.path
        let model = try gguf.requireString("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw FileError(file, "tokenizer.ggml.model is '\(model)'; the byte-level BPE tokenizer reads only 'gpt2' tokenizers")
        }
        let preName = try gguf.requireString("tokenizer.ggml.pre")
        guard let preTokenizer = PreTokenizer(rawValue: preName) else {
            let known = PreTokenizer.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw FileError(file, "unknown pre-tokenizer '\(preName)' in tokenizer.ggml.pre (bip knows \(known))")
        }
        try self.init(
            tokens: try gguf.requireValue("tokenizer.ggml.tokens", "an array of strings", \.strings),
            merges: try gguf.requireValue("tokenizer.ggml.merges", "an array of strings", \.strings),
            tokenTypes: try gguf.requireValue("tokenizer.ggml.token_type", "an array of integers", \.ints),
            bosID: try gguf.requireValue("tokenizer.ggml.bos_token_id", "an integer", \.int),
            eosID: try gguf.requireValue("tokenizer.ggml.eos_token_id", "an integer", \.int),
            addsBOS: try gguf.optionalValue("tokenizer.ggml.add_bos_token", "a bool", \.bool) ?? false,
            preTokenizer: preTokenizer,
            source: file)
    }
}
