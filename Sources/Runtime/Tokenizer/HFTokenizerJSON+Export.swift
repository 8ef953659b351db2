import Foundation

extension HFTokenizerJSON {
    /// Writes the tokenizer in a GGUF file's metadata as `tokenizer.json` and
    /// `tokenizer_config.json` in `directory`, in the layouts `load` reads (and HF `tokenizers`
    /// reads): a byte-level BPE with its pre-tokenizer, or a SentencePiece vocabulary as a
    /// byte-fallback BPE whose merges are every pair of text tokens making a text token,
    /// ranked by the made token's score (the order HF's LLaMA converter uses).
    public static func write(fromGGUF gguf: GGUFFile, to directory: URL) throws {
        let (tokenizer, config) = try export(gguf)
        for (value, name) in [(tokenizer, fileName), (config, configFileName)] {
            try AtomicFile.write(Data(value.serialized()), to: directory.appendingPathComponent(name))
        }
    }

    /// The tokenizer.json and tokenizer_config.json of a GGUF file's tokenizer metadata.
    static func export(_ gguf: GGUFFile) throws -> (tokenizer: OrderedJSON, config: OrderedJSON) {
        let model = try gguf.requireString("tokenizer.ggml.model")
        let tokens = try gguf.requireValue("tokenizer.ggml.tokens", "an array of strings", \.strings)
        let types = try gguf.requireValue("tokenizer.ggml.token_type", "an array of integers", \.ints)
            .map { TokenType(rawValue: $0) ?? .normal }
        guard types.count == tokens.count else {
            throw FileError(gguf.path, "\(types.count) token types for \(tokens.count) tokens")
        }
        let bosID = try gguf.optionalValue("tokenizer.ggml.bos_token_id", "an integer", \.int)
        let eosID = try gguf.optionalValue("tokenizer.ggml.eos_token_id", "an integer", \.int)
        let unknownID = try gguf.optionalValue("tokenizer.ggml.unknown_token_id", "an integer", \.int)
        for id in [bosID, eosID, unknownID].compactMap({ $0 }) where !tokens.indices.contains(id) {
            throw FileError(gguf.path, "special token id \(id) is outside the vocabulary of \(tokens.count) tokens")
        }
        let addsBOS = try gguf.optionalValue("tokenizer.ggml.add_bos_token", "a bool", \.bool) ?? (model == "llama")

        let vocab = OrderedJSON.object(tokens.enumerated().map { ($1, .number(Double($0))) })
        let added = OrderedJSON.array(tokens.indices.filter { [.control, .userDefined, .unknown].contains(types[$0]) }.map { id in
            let special = types[id] != .userDefined
            return .object([("id", .number(Double(id))), ("content", .string(tokens[id])), ("single_word", .bool(false)),
                            ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(!special)),
                            ("special", .bool(special))])
        })
        var parts: [(key: String, value: OrderedJSON)] = [("version", .string("1.0")), ("truncation", .null), ("padding", .null),
                                                         ("added_tokens", added)]
        let modelJSON: OrderedJSON
        switch model {
        case "gpt2":
            let preName = try gguf.requireString("tokenizer.ggml.pre")
            guard let preTokenizer = PreTokenizer(rawValue: preName) else {
                throw FileError(gguf.path, "unknown pre-tokenizer '\(preName)' in tokenizer.ggml.pre")
            }
            let merges = try gguf.requireValue("tokenizer.ggml.merges", "an array of strings", \.strings)
            parts += [("normalizer", .null), ("pre_tokenizer", byteLevelPreTokenizer(preTokenizer)),
                      ("post_processor", bosTemplate(addsBOS ? bosID.map { (tokens[$0], $0) } : nil) ?? byteLevel(usesRegex: false)),
                      ("decoder", byteLevel(usesRegex: true))]
            modelJSON = bpeModel(vocab: vocab, merges: merges.map(OrderedJSON.string), byteFallback: false,
                                 unknown: nil, ignoresMerges: preTokenizer.ignoresMerges)
        case "llama":
            let scores = try gguf.requireValue("tokenizer.ggml.scores", "an array of numbers", \.floats)
            guard scores.count == tokens.count else {
                throw FileError(gguf.path, "\(scores.count) scores for \(tokens.count) tokens")
            }
            let addsSpacePrefix = try gguf.optionalValue("tokenizer.ggml.add_space_prefix", "a bool", \.bool) ?? true
            let replace = OrderedJSON.object([("type", .string("Replace")), ("pattern", .object([("String", .string(" "))])),
                                              ("content", .string("▁"))])
            let prepend = OrderedJSON.object([("type", .string("Prepend")), ("prepend", .string("▁"))])
            let normalizer = OrderedJSON.object([("type", .string("Sequence")),
                                                 ("normalizers", .array(addsSpacePrefix ? [prepend, replace] : [replace]))])
            var decoders: [OrderedJSON] = [
                .object([("type", .string("Replace")), ("pattern", .object([("String", .string("▁"))])), ("content", .string(" "))]),
                .object([("type", .string("ByteFallback"))]), .object([("type", .string("Fuse"))]),
            ]
            if addsSpacePrefix {
                decoders.append(.object([("type", .string("Strip")), ("content", .string(" ")),
                                         ("start", .number(1)), ("stop", .number(0))]))
            }
            parts += [("normalizer", normalizer), ("pre_tokenizer", .null),
                      ("post_processor", bosTemplate(addsBOS ? bosID.map { (tokens[$0], $0) } : nil) ?? .null),
                      ("decoder", .object([("type", .string("Sequence")), ("decoders", .array(decoders))]))]
            modelJSON = bpeModel(vocab: vocab, merges: sentencePieceMerges(tokens: tokens, types: types, scores: scores),
                                 byteFallback: true, unknown: unknownID.map { tokens[$0] }, ignoresMerges: false)
        default:
            throw FileError(gguf.path, "tokenizer.ggml.model is '\(model)'; bip writes tokenizer.json only for 'gpt2' and 'llama' tokenizers")
        }
        parts.append(("model", modelJSON))

        var config: [(key: String, value: OrderedJSON)] = [("add_bos_token", .bool(addsBOS)), ("add_eos_token", .bool(false))]
        for (key, id) in [("bos_token", bosID), ("eos_token", eosID), ("unk_token", unknownID)] {
            if let id { config.append((key, .string(tokens[id]))) }
        }
        config += [("clean_up_tokenization_spaces", .bool(false)), ("tokenizer_class", .string("PreTrainedTokenizerFast"))]
        return (.object(parts), .object(config))
    }

    /// Merges for a SentencePiece vocabulary: every split of a text token into two text
    /// tokens, the made token's higher score first, then by the made token's id and the left
    /// token's id.
    private static func sentencePieceMerges(tokens: [String], types: [TokenType], scores: [Float]) -> [OrderedJSON] {
        let isText = types.map { $0 == .normal || $0 == .userDefined || $0 == .unused }
        var ids: [[UInt8]: Int] = [:]
        for (id, token) in tokens.enumerated() where isText[id] && ids[Array(token.utf8)] == nil { ids[Array(token.utf8)] = id }
        var merges: [(made: Int, left: Int, right: Int)] = []
        for (id, token) in tokens.enumerated() where isText[id] {
            let bytes = Array(token.utf8)
            // Cut only between UTF-8 characters (before a byte that does not continue one).
            for cut in bytes.indices.dropFirst() where bytes[cut] & 0xC0 != 0x80 {
                if let left = ids[Array(bytes[..<cut])], let right = ids[Array(bytes[cut...])] {
                    merges.append((id, left, right))
                }
            }
        }
        merges.sort { a, b in
            scores[a.made] != scores[b.made] ? scores[a.made] > scores[b.made] : (a.made, a.left) < (b.made, b.left)
        }
        return merges.map { .array([.string(tokens[$0.left]), .string(tokens[$0.right])]) }
    }

    private static func bpeModel(vocab: OrderedJSON, merges: [OrderedJSON], byteFallback: Bool, unknown: String?,
                                 ignoresMerges: Bool) -> OrderedJSON {
        .object([("type", .string("BPE")), ("dropout", .null), ("unk_token", unknown.map(OrderedJSON.string) ?? .null),
                 ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null), ("fuse_unk", .bool(byteFallback)),
                 ("byte_fallback", .bool(byteFallback)), ("ignore_merges", .bool(ignoresMerges)),
                 ("vocab", vocab), ("merges", .array(merges))])
    }

    private static func byteLevel(usesRegex: Bool) -> OrderedJSON {
        .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
                 ("use_regex", .bool(usesRegex))])
    }

    /// The pre-tokenizer section `load` maps back to `preTokenizer`.
    private static func byteLevelPreTokenizer(_ preTokenizer: PreTokenizer) -> OrderedJSON {
        let sequence: [OrderedJSON]
        switch preTokenizer {
        case .gpt2:
            return byteLevel(usesRegex: true)
        case .smollm:
            sequence = [.object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel(usesRegex: true)]
        case .llamaBPE, .qwen2:
            let pattern = splitPatterns.first { $0.value == preTokenizer }!.key
            sequence = [.object([("type", .string("Split")), ("pattern", .object([("Regex", .string(pattern))])),
                                 ("behavior", .string("Isolated")), ("invert", .bool(false))]),
                        byteLevel(usesRegex: false)]
        }
        return .object([("type", .string("Sequence")), ("pretokenizers", .array(sequence))])
    }

    /// A TemplateProcessing post-processor putting `bos` before each sequence, or nil for none.
    private static func bosTemplate(_ token: (text: String, id: Int)?) -> OrderedJSON? {
        guard let (bos, id) = token else { return nil }
        func special(_ typeID: Int) -> OrderedJSON {
            .object([("SpecialToken", .object([("id", .string(bos)), ("type_id", .number(Double(typeID)))]))])
        }
        func sequence(_ name: String, _ typeID: Int) -> OrderedJSON {
            .object([("Sequence", .object([("id", .string(name)), ("type_id", .number(Double(typeID)))]))])
        }
        return .object([("type", .string("TemplateProcessing")),
                        ("single", .array([special(0), sequence("A", 0)])),
                        ("pair", .array([special(0), sequence("A", 0), special(1), sequence("B", 1)])),
                        ("special_tokens", .object([(bos, .object([("id", .string(bos)), ("ids", .array([.number(Double(id))])),
                                                                     ("tokens", .array([.string(bos)]))]))]))])
    }
}
