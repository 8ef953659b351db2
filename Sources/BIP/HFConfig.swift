import Foundation
import Runtime

/// The fields bip reads from a Hugging Face `config.json` of a LLaMA-family causal LM
/// (`LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`), with HF's defaults where a
/// field may be left out. Every problem is a `FileError` naming the file.
public struct HFConfig {
    /// HF class name to bip's architecture (whose layout and RoPE bip runs the same way).
    public static let architectures = ["LlamaForCausalLM": "llama", "MistralForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"]

    public let path: String
    /// The HF class name, as in `architectures[0]`.
    public let className: String
    public let modelConfig: ModelConfig
    public let layerCount: Int
    public let queryHeads: Int
    public let kvHeads: Int
    public let ffnWidth: Int
    /// `tie_word_embeddings`, or nil when the file does not say.
    public let tiedEmbeddings: Bool?
    /// Projections whose biases the architecture or the config requires (`q_proj`, …, `down_proj`).
    public let requiredBiases: Set<String>
    /// The whole JSON object (for sections bip adds, such as `bip`).
    public let json: [String: Any]

    public init(url: URL) throws {
        path = url.path
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(url.path, "missing or unreadable")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FileError(url.path, "not a JSON object")
        }
        self.json = json
        let path = url.path
        guard let className = (json["architectures"] as? [String])?.first else {
            throw FileError(path, "no 'architectures' list naming the model class")
        }
        guard let architecture = Self.architectures[className] else {
            let known = Self.architectures.keys.sorted().joined(separator: ", ")
            throw FileError(path, "architecture '\(className)' is not supported (bip runs \(known))")
        }
        self.className = className
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = json[key] else {
                guard let value else { throw FileError(path, "missing '\(key)'") }
                return value
            }
            guard let n = raw as? Int, n > 0, n < 1 << 24 else { throw FileError(path, "'\(key)' = \(raw) is not a positive integer") }
            return n
        }
        func number(_ key: String, default value: Double) throws -> Double {
            guard let raw = json[key], !(raw is NSNull) else { return value }
            guard let n = raw as? Double, n > 0, n.isFinite else { throw FileError(path, "'\(key)' = \(raw) is not a positive number") }
            return n
        }
        if let act = json["hidden_act"] as? String, act != "silu" {
            throw FileError(path, "hidden_act '\(act)' is not supported (bip runs silu)")
        }
        if let scaling = json["rope_scaling"], !(scaling is NSNull) {
            throw FileError(path, "rope_scaling \(scaling) is not supported (bip runs plain RoPE)")
        }
        let hidden = try int("hidden_size")
        queryHeads = try int("num_attention_heads")
        kvHeads = try int("num_key_value_heads", default: queryHeads)
        let headDim = try int("head_dim", default: hidden / queryHeads)
        guard headDim % 2 == 0 else { throw FileError(path, "head_dim \(headDim) is odd") }
        layerCount = try int("num_hidden_layers")
        ffnWidth = try int("intermediate_size")
        modelConfig = ModelConfig(architecture: architecture, vocabularySize: try int("vocab_size"), hiddenSize: hidden,
                                  headDim: headDim, ropeBase: try number("rope_theta", default: 10000),
                                  rmsEpsilon: Float(try number("rms_norm_eps", default: 1e-6)),
                                  contextLength: try int("max_position_embeddings", default: 2048))
        tiedEmbeddings = json["tie_word_embeddings"] as? Bool
        var biases: Set<String> = architecture == "qwen2" ? ["q_proj", "k_proj", "v_proj"] : []
        if json["attention_bias"] as? Bool == true { biases.formUnion(["q_proj", "k_proj", "v_proj", "o_proj"]) }
        if json["mlp_bias"] as? Bool == true { biases.formUnion(["gate_proj", "up_proj", "down_proj"]) }
        requiredBiases = biases
    }
}
