import Foundation

/// Reads HF `tokenizers`' `tokenizer.json` (with `tokenizer_config.json` beside it when there is
/// one) into bip's tokenizers. Two layouts of a BPE model are understood:
///
/// - byte-fallback BPE with the SentencePiece conventions (LLaMA-1/2, Vicuna): a normalizer
///   `Sequence[Prepend("▁"), Replace(" ", "▁")]`, or a `Metaspace` pre-tokenizer, becomes a
///   `SentencePieceBPETokenizer` merging by the merges' order;
/// - byte-level BPE: the `ByteLevel` pre-tokenizer alone (GPT-2), after `Digits` (SmolLM), or
///   after a `Split` by the LLaMA-3 or Qwen2 pattern becomes a `ByteLevelBPETokenizer`.
///
/// `added_tokens` marked `special` are control tokens, the other added tokens user-defined.
/// BOS, EOS and `add_bos_token` come from `tokenizer_config.json`, else from the
/// `TemplateProcessing` post-processor. Anything else is an error naming the file. Files are
/// read with `OrderedJSON`, so tokens are kept byte for byte.
public enum HFTokenizerJSON {
    public static let fileName = "tokenizer.json"
    public static let configFileName = "tokenizer_config.json"

    /// The split patterns bip knows, as tokenizer.json writes them in a `Split` pre-tokenizer.
    static let splitPatterns: [String: PreTokenizer] = [
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llamaBPE,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .qwen2,
    ]

    /// The tokenizer of the `tokenizer.json` at `path`.
    public static func load(path: String) throws -> any Tokenizer {
        let root = try readObject(path)
        let model = try object(root["model"], "model", path)
        let type = model["type"]?.string
        guard type == "BPE" else {
            throw FileError(path, "model.type is \(type.map { "'\($0)'" } ?? "missing"); bip reads only 'BPE' tokenizers")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key]?.string, !affix.isEmpty {
                throw FileError(path, "model.\(key) '\(affix)' is not supported")
            }
        }
        let vocabulary = try readVocabulary(model: model, root: root, path)
        let merges = try readMerges(model["merges"], path)
        var tokenIDs: [[UInt8]: Int] = [:]
        for (id, token) in vocabulary.tokens.enumerated() where tokenIDs[Array(token.utf8)] == nil { tokenIDs[Array(token.utf8)] = id }
        let specials = try readSpecialIDs(root: root, tokenIDs: tokenIDs, path)

        if model["byte_fallback"]?.bool == true {
            var types = vocabulary.types
            for (id, token) in vocabulary.tokens.enumerated()
            where types[id] == .normal && SentencePieceBPETokenizer.byteValue(token) != nil {
                types[id] = .byte
            }
            var unknownID: Int?
            if let unknown = model["unk_token"]?.string {
                guard let id = tokenIDs[Array(unknown.utf8)] else {
                    throw FileError(path, "model.unk_token '\(unknown)' is not in the vocabulary")
                }
                if types[id] == .normal { types[id] = .unknown }
                unknownID = id
            }
            return try SentencePieceBPETokenizer(
                tokens: vocabulary.tokens, tokenTypes: types.map(\.rawValue), priority: .mergeRanks(merges),
                bosID: specials.bos, eosID: specials.eos, unknownID: unknownID, addsBOS: specials.addsBOS,
                spacePrefix: try spacePrefix(root, path), source: path)
        }
        let (preTokenizer, appliesNFC) = try byteLevelLayout(root, path)
        if let ignoresMerges = model["ignore_merges"]?.bool, ignoresMerges != preTokenizer.ignoresMerges {
            throw FileError(path, "model.ignore_merges is \(ignoresMerges), but bip applies it \(preTokenizer.ignoresMerges ? "always" : "never") with the \(preTokenizer.rawValue) pre-tokenizer")
        }
        return try ByteLevelBPETokenizer(
            tokens: vocabulary.tokens, merges: merges.map { "\($0.left) \($0.right)" },
            tokenTypes: vocabulary.types.map(\.rawValue), bosID: specials.bos, eosID: specials.eos,
            addsBOS: specials.addsBOS, preTokenizer: preTokenizer, appliesNFC: appliesNFC, source: path)
    }

    // MARK: vocabulary

    /// Tokens by id from `model.vocab` and `added_tokens`, with their types.
    private static func readVocabulary(model: OrderedJSON, root: OrderedJSON,
                                       _ path: String) throws -> (tokens: [String], types: [TokenType]) {
        guard let vocab = model["vocab"]?.members else {
            throw FileError(path, "model.vocab is missing or not an object of token ids")
        }
        var byID: [Int: (String, TokenType)] = [:]
        func add(_ token: String, _ id: OrderedJSON?, _ type: TokenType, _ what: String) throws {
            guard let id = id?.int, id >= 0, id < 1 << 24 else {
                throw FileError(path, "\(what): the token id is missing or not a small non-negative integer")
            }
            if let existing = byID[id], !existing.0.utf8.elementsEqual(token.utf8) {
                throw FileError(path, "token id \(id) is both '\(existing.0)' and '\(token)'")
            }
            byID[id] = (token, type)
        }
        for (token, id) in vocab { try add(token, id, .normal, "model.vocab['\(token)']") }
        let added = root["added_tokens"] ?? .array([])
        guard let entries = added.array else { throw FileError(path, "added_tokens is not an array") }
        for (index, entry) in entries.enumerated() {
            guard let content = entry["content"]?.string else {
                throw FileError(path, "added_tokens[\(index)] has no content string")
            }
            try add(content, entry["id"], entry["special"]?.bool == true ? .control : .userDefined, "added_tokens[\(index)]")
        }
        guard !byID.isEmpty else { throw FileError(path, "the vocabulary has no tokens") }
        let count = (byID.keys.max() ?? 0) + 1
        var tokens: [String] = [], types: [TokenType] = []
        tokens.reserveCapacity(count)
        types.reserveCapacity(count)
        for id in 0..<count {
            guard let (token, type) = byID[id] else { throw FileError(path, "no token has id \(id)") }
            tokens.append(token)
            types.append(type)
        }
        return (tokens, types)
    }

    /// `model.merges`, as "left right" strings or as [left, right] pairs.
    private static func readMerges(_ value: OrderedJSON?, _ path: String) throws -> [(left: String, right: String)] {
        guard let items = value?.array else { throw FileError(path, "model.merges is missing or not an array") }
        return try items.enumerated().map { index, item in
            if let pair = item.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string {
                return (left, right)
            }
            if let line = item.string {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty { return (String(parts[0]), String(parts[1])) }
            }
            throw FileError(path, "model.merges[\(index)] is not two symbols ('a b' or [\"a\", \"b\"])")
        }
    }

    // MARK: layouts

    /// Where a byte-fallback BPE puts the "▁" prefix, from its normalizer or Metaspace pre-tokenizer.
    private static func spacePrefix(_ root: OrderedJSON, _ path: String) throws -> SentencePieceBPETokenizer.SpacePrefix {
        let normalizers = try steps(root["normalizer"], "normalizer", path)
        let preTokenizers = try steps(root["pre_tokenizer"], "pre_tokenizer", path)
        let replacesSpaces: (OrderedJSON) -> Bool = { step in
            step["type"]?.string == "Replace" && step["pattern"]?["String"]?.string == " " && step["content"]?.string == "▁"
        }
        if preTokenizers.isEmpty {
            if normalizers.count == 2, normalizers[0]["type"]?.string == "Prepend",
               normalizers[0]["prepend"]?.string == "▁", replacesSpaces(normalizers[1]) {
                return .everySegment
            }
            if normalizers.count == 1, replacesSpaces(normalizers[0]) { return .none }
        } else if normalizers.isEmpty, preTokenizers.count == 1, preTokenizers[0]["type"]?.string == "Metaspace",
                  preTokenizers[0]["replacement"]?.string ?? "▁" == "▁", preTokenizers[0]["split"]?.bool != true {
            let metaspace = preTokenizers[0]
            switch metaspace["prepend_scheme"]?.string ?? (metaspace["add_prefix_space"]?.bool == false ? "never" : "always") {
            case "always": return .metaspace(firstSegmentOnly: false)
            case "first": return .metaspace(firstSegmentOnly: true)
            case "never": return .none
            default: break
            }
        }
        throw FileError(path, "unsupported normalizer and pre-tokenizer for a byte-fallback BPE (bip reads Prepend(\"▁\") + Replace(\" \", \"▁\") or a non-splitting Metaspace)")
    }

    /// The pre-tokenizer of a byte-level BPE, and whether its normalizer is NFC.
    private static func byteLevelLayout(_ root: OrderedJSON, _ path: String) throws -> (PreTokenizer, Bool) {
        let normalizers = try steps(root["normalizer"], "normalizer", path)
        let appliesNFC: Bool
        switch normalizers.map({ $0["type"]?.string ?? "?" }) {
        case []: appliesNFC = false
        case ["NFC"]: appliesNFC = true
        case let other: throw FileError(path, "unsupported normalizer \(other) for a byte-level BPE")
        }
        let preTokenizers = try steps(root["pre_tokenizer"], "pre_tokenizer", path)
        func isByteLevel(_ step: OrderedJSON, usesRegex: Bool) -> Bool {
            step["type"]?.string == "ByteLevel" && step["add_prefix_space"]?.bool != true
                && (step["use_regex"]?.bool ?? true) == usesRegex
        }
        switch preTokenizers.count {
        case 1 where isByteLevel(preTokenizers[0], usesRegex: true):
            return (.gpt2, appliesNFC)
        case 2 where preTokenizers[0]["type"]?.string == "Digits" && preTokenizers[0]["individual_digits"]?.bool == true
            && isByteLevel(preTokenizers[1], usesRegex: true):
            return (.smollm, appliesNFC)
        case 2 where preTokenizers[0]["type"]?.string == "Split" && isByteLevel(preTokenizers[1], usesRegex: false):
            let split = preTokenizers[0]
            guard let pattern = split["pattern"]?["Regex"]?.string else {
                throw FileError(path, "the Split pre-tokenizer has no Regex pattern")
            }
            guard let preTokenizer = splitPatterns[pattern] else {
                throw FileError(path, "unknown Split pattern \(pattern.debugDescription) (bip knows the LLaMA-3 and Qwen2 patterns)")
            }
            guard split["behavior"]?.string == "Isolated", split["invert"]?.bool != true else {
                throw FileError(path, "the Split pre-tokenizer must be Isolated and not inverted")
            }
            return (preTokenizer, appliesNFC)
        default:
            throw FileError(path, "unsupported pre-tokenizer for a BPE without byte_fallback (bip reads ByteLevel, Digits + ByteLevel, and Split by the LLaMA-3 or Qwen2 pattern + ByteLevel)")
        }
    }

    /// A normalizer or pre-tokenizer as its list of steps: none for null, the members of a
    /// `Sequence`, else the one step.
    private static func steps(_ value: OrderedJSON?, _ what: String, _ path: String) throws -> [OrderedJSON] {
        guard let value, !value.isNull else { return [] }
        let step = try object(value, what, path)
        guard step["type"]?.string == "Sequence" else { return [step] }
        let key = what == "normalizer" ? "normalizers" : "pretokenizers"
        guard let members = step[key]?.array else {
            throw FileError(path, "\(what) is a Sequence without a '\(key)' array")
        }
        return members
    }

    // MARK: BOS, EOS

    /// BOS and EOS ids and whether BOS is added, from tokenizer_config.json beside `path`
    /// where it says, else from the post-processor.
    private static func readSpecialIDs(root: OrderedJSON, tokenIDs: [[UInt8]: Int],
                                       _ path: String) throws -> (bos: Int?, eos: Int?, addsBOS: Bool) {
        let configPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(configFileName).path
        let config = FileManager.default.fileExists(atPath: configPath) ? try readObject(configPath) : .object([])
        func id(_ key: String) throws -> Int? {
            guard let value = config[key], !value.isNull else { return nil }
            guard let content = value.string ?? value["content"]?.string else {
                throw FileError(configPath, "\(key) should be a token string or an object with its content")
            }
            guard let id = tokenIDs[Array(content.utf8)] else {
                throw FileError(configPath, "\(key) '\(content)' is not in the vocabulary of \(path)")
            }
            return id
        }
        // TemplateProcessing's `single` template: a leading special token is the BOS it adds.
        let templateBOS = root["post_processor"]?["single"]?.array?.first?["SpecialToken"]?["id"]?.string
            .flatMap { tokenIDs[Array($0.utf8)] }
        let bos = try id("bos_token") ?? templateBOS
        let addsBOS: Bool
        if let value = config["add_bos_token"] {
            guard let flag = value.bool else { throw FileError(configPath, "add_bos_token should be true or false") }
            addsBOS = flag
        } else {
            addsBOS = templateBOS != nil && templateBOS == bos
        }
        return (bos, try id("eos_token"), addsBOS)
    }

    // MARK: JSON

    private static func readObject(_ path: String) throws -> OrderedJSON {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path, "cannot be read") }
        let value: OrderedJSON
        do { value = try OrderedJSON.parse([UInt8](data)) } catch {
            throw FileError(path, "not valid JSON (\(error))")
        }
        guard value.members != nil else { throw FileError(path, "not a JSON object") }
        return value
    }

    private static func object(_ value: OrderedJSON?, _ what: String, _ path: String) throws -> OrderedJSON {
        guard let value, value.members != nil else { throw FileError(path, "\(what) is missing or not an object") }
        return value
    }
}
