import Foundation
import Runtime

/// A model directory, HF-style: `model.safetensors` (HF tensor names, rotate-half q/k rows as held
/// in memory) or shards with `model.safetensors.index.json` (see `SafetensorsCheckpoint`),
/// `config.json` (`LlamaForCausalLM` / `MistralForCausalLM` / `Qwen2ForCausalLM` fields, see
/// `HFConfig`), and the tokenizer: `tokenizer.json` + `tokenizer_config.json` (HF's format, which
/// `load` reads first) and, in directories bip writes, `tokenizer.gguf` (the source vocabulary as
/// it was, see `TokenizerFile`, the source when the directory is pruned again).
///
/// A pruned model's config.json also has a `bip` section with every layer's shapes (query heads,
/// KV map, FFN width, biases) and the pruning provenance; without it every layer has the config's
/// shapes, as in any Hugging Face checkpoint. bip writes both kinds (`bip prune --output`,
/// `bip convert`) and reads both.
public enum PrunedModelDirectory {
    /// How the model was made, written under `bip` in config.json.
    public struct Provenance: Sendable {
        public var method: String
        public var sparsityRequested: Double
        public var sparsityReached: Double
        public var allocation: String
        public var layers: Range<Int>
        public var calibration: String?
        public var calibrationIsTestData: Bool
        public var seed: UInt64
        public var sourceModel: String
        public var sourceSHA256: String
        /// Per pruned layer, which of the source layer's units were kept.
        public var plans: [Int: LayerPlan]

        public init(method: String, sparsityRequested: Double, sparsityReached: Double, allocation: String,
                    layers: Range<Int>, calibration: String?, calibrationIsTestData: Bool, seed: UInt64,
                    sourceModel: String, sourceSHA256: String, plans: [Int: LayerPlan]) {
            self.method = method
            self.sparsityRequested = sparsityRequested
            self.sparsityReached = sparsityReached
            self.allocation = allocation
            self.layers = layers
            self.calibration = calibration
            self.calibrationIsTestData = calibrationIsTestData
            self.seed = seed
            self.sourceModel = sourceModel
            self.sourceSHA256 = sourceSHA256
            self.plans = plans
        }

        /// The provenance of `outcome`, pruned from the model at `sourceModel` (sha256 `sourceSHA256`).
        public init(_ outcome: PruningOutcome, method: String, sparsityRequested: Double, calibration: CalibrationSet?,
                    seed: UInt64, sourceModel: String, sourceSHA256: String) {
            self.init(method: method, sparsityRequested: sparsityRequested, sparsityReached: outcome.sparsity,
                      allocation: outcome.allocation.rawValue, layers: outcome.layers,
                      calibration: calibration.map { $0.source.description }, calibrationIsTestData: calibration?.isTestData ?? false,
                      seed: seed, sourceModel: sourceModel, sourceSHA256: sourceSHA256, plans: outcome.plans)
        }
    }

    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"

    /// Writes `model` to the directory `url` (created if needed); with `provenance` nil (a converted,
    /// unpruned model) config.json has no `bip` section, so the layers must all have one shape.
    public static func write(_ model: LlamaModel, to url: URL, dtype: Safetensors.DType = .f32,
                             provenance: Provenance?, tokenizerSource: GGUFFile) throws {
        if provenance == nil, let first = model.layers.first,
           let odd = model.layers.firstIndex(where: { $0.kvHeadOfQueryHead != first.kvHeadOfQueryHead || $0.ffnWidth != first.ffnWidth }) {
            throw PruningError("layer \(odd) differs in shape from layer 0: only a pruned model (with provenance) can be written so")
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try Safetensors.write(tensors(model), dtype: dtype, metadata: ["format": "pt"],
                              to: url.appendingPathComponent(weightsFile))
        let json = try JSONSerialization.data(withJSONObject: config(model, dtype: dtype, provenance: provenance,
                                                                     tokenizer: tokenizerSource),
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try json.write(to: url.appendingPathComponent(configFile))
        try TokenizerFile.write(from: tokenizerSource, to: url.appendingPathComponent(TokenizerFile.fileName))
        try HFTokenizerJSON.write(fromGGUF: tokenizerSource, to: url)
    }

    /// Whether `path` is a directory (so `--model` reads it as a model directory).
    public static func isModelDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// `spec` as a model: a model directory, else whatever `LoadedModel.load` accepts.
    public static func loadAny(_ spec: String, progress: (String) -> Void = { _ in }) throws -> LoadedModel {
        isModelDirectory(spec) ? try load(URL(fileURLWithPath: spec)) : try LoadedModel.load(spec, progress: progress)
    }

    /// The GGUF file holding the tokenizer of a loaded model (the model file, or a directory's tokenizer.gguf).
    public static func tokenizerSource(of loaded: LoadedModel) throws -> GGUFFile {
        isModelDirectory(loaded.path)
            ? try GGUFFile(path: URL(fileURLWithPath: loaded.path).appendingPathComponent(TokenizerFile.fileName).path)
            : try GGUFFile(path: loaded.path)
    }

    /// Reads a model directory: a bip-written one or a Hugging Face checkpoint (with tokenizer.gguf).
    public static func load(_ url: URL) throws -> LoadedModel {
        let config = try HFConfig(url: url.appendingPathComponent(configFile))
        let weights = try SafetensorsCheckpoint(directory: url)
        let d = config.modelConfig.hiddenSize, hd = config.modelConfig.headDim, vocab = config.modelConfig.vocabularySize

        // Per layer: the KV head of each query head, the KV head count and the FFN width.
        let shapes: [(map: [Int], kvHeads: Int, ffn: Int)]
        if let bip = config.json["bip"] {
            guard let layerInfo = (bip as? [String: Any])?["layers"] as? [[String: Any]] else {
                throw FileError(config.path, "the 'bip' section has no 'layers' list")
            }
            shapes = try layerInfo.enumerated().map { l, info in
                guard let map = info["kv_head_of_query_head"] as? [Int], let kv = info["kv_heads"] as? Int,
                      let ffn = info["ffn"] as? Int, map.allSatisfy({ (0..<kv).contains($0) }) else {
                    throw FileError(config.path, "bip.layers[\(l)] lacks a valid kv_head_of_query_head, kv_heads or ffn")
                }
                return (map, kv, ffn)
            }
        } else {
            guard config.queryHeads % config.kvHeads == 0 else {
                throw FileError(config.path, "\(config.queryHeads) attention heads are not a multiple of \(config.kvHeads) KV heads")
            }
            let group = config.queryHeads / config.kvHeads
            shapes = Array(repeating: ((0..<config.queryHeads).map { $0 / group }, config.kvHeads, config.ffnWidth), count: config.layerCount)
        }
        // A bip section lists each layer's biases and the file holds exactly those; the config's
        // attention_bias / mlp_bias (HF's all-or-nothing flags, written differently by older bip)
        // only say which biases a plain Hugging Face checkpoint must have.
        let requiredBiases = config.json["bip"] == nil ? config.requiredBiases : []
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try weights.floats(name, shape: shape) }
        func linear(_ name: String, out: Int, in inFeatures: Int) throws -> Linear {
            let projection = String(name.split(separator: ".").last!)
            let hasBias = requiredBiases.contains(projection) || weights.has(name + ".bias")
            return Linear(weight: try weights.matrix(name + ".weight", shape: [out, inFeatures]),
                          bias: hasBias ? try tensor(name + ".bias", [out]) : nil)
        }
        var layers: [DecoderLayer] = []
        for (l, shape) in shapes.enumerated() {
            let p = "model.layers.\(l)."
            layers.append(DecoderLayer(
                attentionNorm: try tensor(p + "input_layernorm.weight", [d]),
                q: try linear(p + "self_attn.q_proj", out: shape.map.count * hd, in: d),
                k: try linear(p + "self_attn.k_proj", out: shape.kvHeads * hd, in: d),
                v: try linear(p + "self_attn.v_proj", out: shape.kvHeads * hd, in: d),
                output: try linear(p + "self_attn.o_proj", out: d, in: shape.map.count * hd),
                ffnNorm: try tensor(p + "post_attention_layernorm.weight", [d]),
                gate: try linear(p + "mlp.gate_proj", out: shape.ffn, in: d),
                up: try linear(p + "mlp.up_proj", out: shape.ffn, in: d),
                down: try linear(p + "mlp.down_proj", out: d, in: shape.ffn),
                kvHeadOfQueryHead: shape.map, headDim: hd))
        }
        let tied = config.tiedEmbeddings ?? !weights.has("lm_head.weight")
        let model = LlamaModel(config: config.modelConfig, tokenEmbedding: try tensor("model.embed_tokens.weight", [vocab, d]),
                               layers: layers, outputNorm: try tensor("model.norm.weight", [d]),
                               lmHead: tied ? nil : try tensor("lm_head.weight", [vocab, d]))
        let tokenizer = try TokenizerLoader.load(path: url.path)
        return LoadedModel(path: url.path, weightsFile: weights.identityFile, model: model, tokenizer: tokenizer)
    }

    /// The model's tensors under their HF names.
    static func tensors(_ model: LlamaModel) -> [Safetensors.Tensor] {
        let d = model.config.hiddenSize
        var out = [Safetensors.Tensor(name: "model.embed_tokens.weight", shape: [model.config.vocabularySize, d], values: model.tokenEmbedding)]
        func add(_ name: String, _ linear: Linear) {
            out.append(.init(name: name + ".weight", shape: [linear.outFeatures, linear.inFeatures], values: linear.weight.floats))
            if let bias = linear.bias { out.append(.init(name: name + ".bias", shape: [linear.outFeatures], values: bias)) }
        }
        for (l, layer) in model.layers.enumerated() {
            let p = "model.layers.\(l)."
            out.append(.init(name: p + "input_layernorm.weight", shape: [d], values: layer.attentionNorm))
            add(p + "self_attn.q_proj", layer.q)
            add(p + "self_attn.k_proj", layer.k)
            add(p + "self_attn.v_proj", layer.v)
            add(p + "self_attn.o_proj", layer.output)
            out.append(.init(name: p + "post_attention_layernorm.weight", shape: [d], values: layer.ffnNorm))
            add(p + "mlp.gate_proj", layer.gate)
            add(p + "mlp.up_proj", layer.up)
            add(p + "mlp.down_proj", layer.down)
        }
        out.append(.init(name: "model.norm.weight", shape: [d], values: model.outputNorm))
        if let head = model.lmHead { out.append(.init(name: "lm_head.weight", shape: [model.config.vocabularySize, d], values: head)) }
        return out
    }

    /// config.json: the HF fields (`Qwen2ForCausalLM` for a qwen2 model, else `LlamaForCausalLM`;
    /// head counts and FFN width as the largest layer's) and, for a pruned model, the `bip` section.
    static func config(_ model: LlamaModel, dtype: Safetensors.DType, provenance: Provenance?, tokenizer: GGUFFile) -> [String: Any] {
        let qwen2 = model.config.architecture == "qwen2"
        var config: [String: Any] = [
            "architectures": [qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], "model_type": qwen2 ? "qwen2" : "llama",
            "hidden_act": "silu",
            "hidden_size": model.config.hiddenSize, "head_dim": model.config.headDim,
            "intermediate_size": model.layers.map(\.ffnWidth).max() ?? 0,
            "num_attention_heads": model.layers.map(\.queryHeads).max() ?? 0,
            "num_key_value_heads": model.layers.map(\.kvHeads).max() ?? 0,
            "num_hidden_layers": model.layers.count, "vocab_size": model.config.vocabularySize,
            "rms_norm_eps": Double("\(model.config.rmsEpsilon)")!, "rope_theta": model.config.ropeBase,
            "max_position_embeddings": model.config.contextLength, "tie_word_embeddings": model.lmHead == nil,
            "torch_dtype": dtype == .f32 ? "float32" : "float16",
        ]
        if qwen2 {
            config["use_sliding_window"] = false
        } else {
            // HF's meaning: every attention (MLP) projection of every layer has a bias. Other biases
            // (FLAP's on o_proj and down_proj) are in the file and the `bip` section and load as present.
            config["attention_bias"] = model.layers.allSatisfy { $0.qkv.bias != nil && $0.output.bias != nil }
            config["mlp_bias"] = model.layers.allSatisfy { $0.gateUp.bias != nil && $0.down.bias != nil }
        }
        if let provenance { config["bip"] = section(model, provenance: provenance) }
        if let bos = tokenizer.metadata["tokenizer.ggml.bos_token_id"]?.int { config["bos_token_id"] = bos }
        if let eos = tokenizer.metadata["tokenizer.ggml.eos_token_id"]?.int { config["eos_token_id"] = eos }
        return config
    }

    /// The `bip` section of a pruned model's config.json: every layer's shapes and the provenance.
    static func section(_ model: LlamaModel, provenance p: Provenance) -> [String: Any] {
        let layers: [[String: Any]] = model.layers.enumerated().map { l, layer in
            var biases: [String] = []
            for (name, linear) in [("q_proj", layer.q), ("k_proj", layer.k), ("v_proj", layer.v), ("o_proj", layer.output),
                                   ("gate_proj", layer.gate), ("up_proj", layer.up), ("down_proj", layer.down)] where linear.bias != nil {
                biases.append(name)
            }
            var entry: [String: Any] = ["index": l, "query_heads": layer.queryHeads, "kv_heads": layer.kvHeads,
                                        "kv_head_of_query_head": layer.kvHeadOfQueryHead, "ffn": layer.ffnWidth,
                                        "biases": biases, "pruned": p.plans[l] != nil]
            if let plan = p.plans[l] {
                entry["source_query_heads_kept"] = plan.keptHeads
                entry["source_ffn_channels_kept"] = plan.keptChannels
            }
            return entry
        }
        var bip: [String: Any] = [
            "format_version": 1, "layers": layers, "method": p.method,
            "sparsity_requested": p.sparsityRequested, "sparsity_reached": p.sparsityReached,
            "allocation": p.allocation, "layer_range": "\(p.layers.lowerBound)..<\(p.layers.upperBound)",
            "seed": NSNumber(value: p.seed), "source_model": p.sourceModel, "source_sha256": p.sourceSHA256,
            "parameters": model.parameterCount, "rope_layout": "rotate_half",
        ]
        if let calibration = p.calibration {
            bip["calibration"] = calibration
            bip["calibration_is_test_data"] = p.calibrationIsTestData
        }
        return bip
    }
}
