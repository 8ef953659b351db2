import Foundation

/// A Hugging Face `config.json` of a LLaMA-family causal LM (`LlamaForCausalLM`,
/// `MistralForCausalLM`, `Qwen2ForCausalLM`): the fields bip reads and writes, under HF's names,
/// with HF's defaults where a field may be left out, and the `bip` section of a pruned model.
/// Reading checks every field bip runs on; each problem is a `FileError` naming the file.
public struct HFConfig: Codable, Sendable, Equatable {
    public static let fileName = "config.json"
    /// HF class name to bip's architecture (whose layout and RoPE bip runs the same way).
    public static let architectures = ["LlamaForCausalLM": "llama", "MistralForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"]

    /// HF class names; the first is the model's.
    public var architectures: [String]
    public var modelType: String?
    public var hiddenAct: String?
    public var hiddenSize: Int
    public var headDim: Int
    /// The FFN width (the largest layer's in a pruned model).
    public var ffnWidth: Int
    /// Query heads (the largest layer's in a pruned model).
    public var queryHeads: Int
    /// KV heads (the largest layer's in a pruned model).
    public var kvHeads: Int
    public var layerCount: Int
    public var vocabularySize: Int
    public var rmsEpsilon: Double
    public var ropeBase: Double
    public var contextLength: Int
    /// `tie_word_embeddings`, or nil when the file does not say.
    public var tiedEmbeddings: Bool?
    public var torchDType: String?
    /// HF's meaning: every attention (MLP) projection of every layer has a bias.
    public var attentionBias: Bool?
    public var mlpBias: Bool?
    public var useSlidingWindow: Bool?
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    /// Every layer's shapes and the pruning provenance, in configs bip writes for pruned models.
    public var bip: BIPSection?

    enum CodingKeys: String, CodingKey {
        case architectures, modelType = "model_type", hiddenAct = "hidden_act", hiddenSize = "hidden_size", headDim = "head_dim"
        case ffnWidth = "intermediate_size", queryHeads = "num_attention_heads", kvHeads = "num_key_value_heads"
        case layerCount = "num_hidden_layers", vocabularySize = "vocab_size", rmsEpsilon = "rms_norm_eps", ropeBase = "rope_theta"
        case contextLength = "max_position_embeddings", tiedEmbeddings = "tie_word_embeddings", torchDType = "torch_dtype"
        case attentionBias = "attention_bias", mlpBias = "mlp_bias", useSlidingWindow = "use_sliding_window"
        case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id", bip
    }

    /// Fields bip refuses when present (it does not run what they ask for).
    private enum UnsupportedKeys: String, CodingKey {
        case ropeScaling = "rope_scaling"
    }

    public init(architectures: [String], modelType: String?, hiddenAct: String?, hiddenSize: Int, headDim: Int, ffnWidth: Int,
                queryHeads: Int, kvHeads: Int, layerCount: Int, vocabularySize: Int, rmsEpsilon: Double, ropeBase: Double,
                contextLength: Int, tiedEmbeddings: Bool?, torchDType: String?, attentionBias: Bool? = nil, mlpBias: Bool? = nil,
                useSlidingWindow: Bool? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil, bip: BIPSection? = nil) {
        self.architectures = architectures
        self.modelType = modelType
        self.hiddenAct = hiddenAct
        self.hiddenSize = hiddenSize
        self.headDim = headDim
        self.ffnWidth = ffnWidth
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        self.layerCount = layerCount
        self.vocabularySize = vocabularySize
        self.rmsEpsilon = rmsEpsilon
        self.ropeBase = ropeBase
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.torchDType = torchDType
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.useSlidingWindow = useSlidingWindow
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.bip = bip
    }

    /// Reads and checks the config.json at `url`.
    public static func read(from url: URL) throws -> HFConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(url.path, "missing or unreadable")
        }
        do {
            return try JSONDecoder().decode(HFConfig.self, from: data)
        } catch let problem as Problem {
            throw FileError(url.path, problem.text)
        } catch let error as DecodingError {
            throw FileError(url.path, decoding: error)
        }
    }

    /// Writes the config to `url` (keys sorted, pretty-printed).
    public func write(to url: URL) throws {
        try Self.write(self, to: url)
    }

    /// Writes `value` (a config.json's fields) to `url` as bip writes every config.json.
    static func write(_ value: some Encodable, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(value), to: url)
    }

    /// The model's shape and RoPE/norm constants, as bip runs them.
    public var modelConfig: ModelConfig {
        ModelConfig(architecture: Self.architectures[architectures[0]]!, vocabularySize: vocabularySize, hiddenSize: hiddenSize,
                    headDim: headDim, ropeBase: ropeBase, rmsEpsilon: Float(rmsEpsilon), contextLength: contextLength)
    }

    /// Projections whose biases the architecture or the config requires of a plain HF checkpoint.
    public var requiredBiases: Set<HFTensorName.Projection> {
        var biases: Set<HFTensorName.Projection> = modelConfig.architecture == "qwen2" ? [.q, .k, .v] : []
        if attentionBias == true { biases.formUnion(HFTensorName.Projection.attention) }
        if mlpBias == true { biases.formUnion(HFTensorName.Projection.mlp) }
        return biases
    }

    /// A field bip cannot run, said in a sentence (made a `FileError` naming the file by `read`).
    struct Problem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let architectures = try? c.decode([String].self, forKey: .architectures), let className = architectures.first else {
            throw Problem("no 'architectures' list naming the model class")
        }
        guard Self.architectures[className] != nil else {
            let known = Self.architectures.keys.sorted().joined(separator: ", ")
            throw Problem("architecture '\(className)' is not supported (bip runs \(known))")
        }
        self.architectures = architectures
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        if let act = hiddenAct, act != "silu" {
            throw Problem("hidden_act '\(act)' is not supported (bip runs silu)")
        }
        let unsupported = try decoder.container(keyedBy: UnsupportedKeys.self)
        if unsupported.contains(.ropeScaling), try !unsupported.decodeNil(forKey: .ropeScaling) {
            throw Problem("rope_scaling \(fieldText(unsupported, .ropeScaling)) is not supported (bip runs plain RoPE)")
        }
        hiddenSize = try c.positiveInteger(.hiddenSize)
        queryHeads = try c.positiveInteger(.queryHeads)
        kvHeads = try c.positiveInteger(.kvHeads, default: queryHeads)
        headDim = try c.positiveInteger(.headDim, default: hiddenSize / queryHeads)
        guard headDim % 2 == 0 else { throw Problem("head_dim \(headDim) is odd") }
        layerCount = try c.positiveInteger(.layerCount)
        ffnWidth = try c.positiveInteger(.ffnWidth)
        vocabularySize = try c.positiveInteger(.vocabularySize)
        ropeBase = try c.positiveNumber(.ropeBase, default: 10000)
        rmsEpsilon = try c.positiveNumber(.rmsEpsilon, default: 1e-6)
        contextLength = try c.positiveInteger(.contextLength, default: 2048)
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings)
        torchDType = try c.decodeIfPresent(String.self, forKey: .torchDType)
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias)
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow)
        bosTokenID = try c.decodeIfPresent(Int.self, forKey: .bosTokenID)
        eosTokenID = try c.decodeIfPresent(Int.self, forKey: .eosTokenID)
        bip = try c.decodeIfPresent(BIPSection.self, forKey: .bip)
    }
}

private extension KeyedDecodingContainer<HFConfig.CodingKeys> {
    /// The positive integer under `key`, `fallback` when the key is absent.
    func positiveInteger(_ key: Key, default fallback: Int? = nil) throws -> Int {
        guard contains(key) else {
            guard let fallback else { throw HFConfig.Problem("missing '\(key.stringValue)'") }
            return fallback
        }
        guard let n = try? decode(Int.self, forKey: key), n > 0, n < 1 << 24 else {
            throw HFConfig.Problem("'\(key.stringValue)' = \(fieldText(self, key)) is not a positive integer")
        }
        return n
    }

    /// The positive finite number under `key`, `fallback` when the key is absent or null.
    func positiveNumber(_ key: Key, default fallback: Double) throws -> Double {
        guard contains(key), try !decodeNil(forKey: key) else { return fallback }
        guard let n = try? decode(Double.self, forKey: key), n > 0, n.isFinite else {
            throw HFConfig.Problem("'\(key.stringValue)' = \(fieldText(self, key)) is not a positive number")
        }
        return n
    }
}

/// The value under `key` as a message shows it: a scalar as written, an object by its keys.
private func fieldText<K>(_ container: KeyedDecodingContainer<K>, _ key: K) -> String {
    if (try? container.decodeNil(forKey: key)) == true { return "null" }
    if let n = try? container.decode(Int.self, forKey: key) { return "\(n)" }
    if let n = try? container.decode(Double.self, forKey: key) { return "\(n)" }
    if let b = try? container.decode(Bool.self, forKey: key) { return "\(b)" }
    if let s = try? container.decode(String.self, forKey: key) { return s }
    if let object = try? container.decode([String: DiscardedValue].self, forKey: key) {
        return "{\(object.keys.sorted().joined(separator: ", "))}"
    }
    return "(a list)"
}

/// Any JSON value, read only to be skipped (so an object's keys can be named in a message).
private struct DiscardedValue: Decodable {
    init(from decoder: any Decoder) throws {}
}
