extension SentencePieceBPETokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata, which must be a
    /// SentencePiece vocabulary (`tokenizer.ggml.model` "llama") with tokens, scores and token
    /// types. As in llama.cpp, `add_bos_token` and `add_space_prefix` default to true.
    public init(gguf: GGUFFile) throws {
        let file = gguf.path
        let model = try gguf.requireString("tokenizer.ggml.model")
        guard model == "llama" else {
            throw FileError(file, "tokenizer.ggml.model is '\(model)'; the SentencePiece tokenizer reads only 'llama' tokenizers")
        }
        let addsSpacePrefix = try gguf.optionalValue("tokenizer.ggml.add_space_prefix", "a bool", \.bool) ?? true
        try self.init(
            tokens: try gguf.requireValue("tokenizer.ggml.tokens", "an array of strings", \.strings),
            tokenTypes: try gguf.requireValue("tokenizer.ggml.token_type", "an array of integers", \.ints),
            priority: .scores(try gguf.requireValue("tokenizer.ggml.scores", "an array of numbers", \.floats)),
            bosID: try gguf.optionalValue("tokenizer.ggml.bos_token_id", "an integer", \.int),
            eosID: try gguf.optionalValue("tokenizer.ggml.eos_token_id", "an integer", \.int),
            unknownID: try gguf.optionalValue("tokenizer.ggml.unknown_token_id", "an integer", \.int),
            addsBOS: try gguf.optionalValue("tokenizer.ggml.add_bos_token", "a bool", \.bool) ?? true,
            spacePrefix: addsSpacePrefix ? .everySegment : .none,
            source: file)
    }
}
