import Foundation
import Runtime

/// A pruned model on disk, HF-style: `model.safetensors` (HF tensor names, rotate-half q/k rows as
/// held in memory), `config.json` (LlamaForCausalLM fields plus a `bip` section with every
/// layer's shapes: query heads, KV map, FFN width, biases, and the pruning provenance),
/// `tokenizer.json` and `tokenizer_config.json` (the source tokenizer converted to HF's format,
/// which `load` reads) and `tokenizer.gguf` (the source vocabulary as it was, see `TokenizerFile`,
/// the source when the directory is pruned again).
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

    /// Writes `model` to the directory `url` (created if needed).
    public static func write(_ model: LlamaModel, to url: URL, dtype: Safetensors.DType = .f32,
                             provenance: Provenance, tokenizerSource: GGUFFile) throws {
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

    /// Whether `path` is a directory holding a config.json (a model written by `write`).
    public static func isModelDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent(configFile).path)
    }

    /// `spec` as a model: a pruned-model directory, else whatever `LoadedModel.load` accepts.
    public static func loadAny(_ spec: String, progress: (String) -> Void = { _ in }) throws -> LoadedModel {
        isModelDirectory(spec) ? try load(URL(fileURLWithPath: spec)) : try LoadedModel.load(spec, progress: progress)
    }

    /// The GGUF file holding the tokenizer of a loaded model (the model file, or a directory's tokenizer.gguf).
    public static func tokenizerSource(of loaded: LoadedModel) throws -> GGUFFile {
        isModelDirectory(loaded.path)
            ? try GGUFFile(path: URL(fileURLWithPath: loaded.path).appendingPathComponent(TokenizerFile.fileName).path)
            : try GGUFFile(path: loaded.path)
    }

    /// Reads a directory written by `write`.
    public static func load(_ url: URL) throws -> LoadedModel {
        let configURL = url.appendingPathComponent(configFile)
        guard let data = FileManager.default.contents(atPath: configURL.path),
              let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelFileError(configURL.path, "missing or not a JSON object")
        }
        func number(_ key: String) throws -> Double {
            guard let v = config[key] as? NSNumber else { throw ModelFileError(configURL.path, "missing number '\(key)'") }
            return v.doubleValue
        }
        guard let bip = config["bip"] as? [String: Any], let layerInfo = bip["layers"] as? [[String: Any]] else {
            throw ModelFileError(configURL.path, "no 'bip.layers' section: not a model written by bip prune")
        }
        let d = Int(try number("hidden_size")), hd = Int(try number("head_dim")), vocab = Int(try number("vocab_size"))
        let modelConfig = ModelConfig(architecture: "llama", vocabularySize: vocab, hiddenSize: d, headDim: hd,
                                      ropeBase: try number("rope_theta"), rmsEpsilon: Float(try number("rms_norm_eps")),
                                      contextLength: Int(try number("max_position_embeddings")))
        let weights: Safetensors.File
        do { weights = try Safetensors.File(url: url.appendingPathComponent(weightsFile)) } catch let e as PruningError {
            throw ModelFileError(url.appendingPathComponent(weightsFile).path, e.description)
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            do { return try weights.floats(name, shape: shape) } catch let e as PruningError {
                throw ModelFileError(weights.path, e.description)
            }
        }
        func linear(_ name: String, out: Int, in inFeatures: Int) throws -> Linear {
            Linear(weight: try tensor(name + ".weight", [out, inFeatures]),
                   bias: weights.shape(name + ".bias") == nil ? nil : try tensor(name + ".bias", [out]),
                   outFeatures: out, inFeatures: inFeatures)
        }
        var layers: [DecoderLayer] = []
        for (l, info) in layerInfo.enumerated() {
            guard let map = info["kv_head_of_query_head"] as? [Int], let kv = info["kv_heads"] as? Int,
                  let ffn = info["ffn"] as? Int, map.allSatisfy({ (0..<kv).contains($0) }) else {
                throw ModelFileError(configURL.path, "bip.layers[\(l)] lacks a valid kv_head_of_query_head, kv_heads or ffn")
            }
            let p = "model.layers.\(l)."
            layers.append(DecoderLayer(
                attentionNorm: try tensor(p + "input_layernorm.weight", [d]),
                q: try linear(p + "self_attn.q_proj", out: map.count * hd, in: d),
                k: try linear(p + "self_attn.k_proj", out: kv * hd, in: d),
                v: try linear(p + "self_attn.v_proj", out: kv * hd, in: d),
                output: try linear(p + "self_attn.o_proj", out: d, in: map.count * hd),
                ffnNorm: try tensor(p + "post_attention_layernorm.weight", [d]),
                gate: try linear(p + "mlp.gate_proj", out: ffn, in: d),
                up: try linear(p + "mlp.up_proj", out: ffn, in: d),
                down: try linear(p + "mlp.down_proj", out: d, in: ffn),
                kvHeadOfQueryHead: map, headDim: hd))
        }
        let tied = config["tie_word_embeddings"] as? Bool ?? true
        let model = LlamaModel(config: modelConfig, tokenEmbedding: try tensor("model.embed_tokens.weight", [vocab, d]),
                               layers: layers, outputNorm: try tensor("model.norm.weight", [d]),
                               lmHead: tied ? nil : try tensor("lm_head.weight", [vocab, d]))
        let tokenizer = try TokenizerLoader.load(path: url.path)
        return LoadedModel(path: url.path, weightsFile: url.appendingPathComponent(weightsFile).path, model: model, tokenizer: tokenizer)
    }

    /// The model's tensors under their HF names.
    static func tensors(_ model: LlamaModel) -> [Safetensors.Tensor] {
        let d = model.config.hiddenSize
        var out = [Safetensors.Tensor(name: "model.embed_tokens.weight", shape: [model.config.vocabularySize, d], values: model.tokenEmbedding)]
        func add(_ name: String, _ linear: Linear) {
            out.append(.init(name: name + ".weight", shape: [linear.outFeatures, linear.inFeatures], values: linear.weight))
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

    /// config.json: the LlamaForCausalLM fields (head counts and FFN width as the largest layer's)
    /// and the `bip` section.
    static func config(_ model: LlamaModel, dtype: Safetensors.DType, provenance p: Provenance, tokenizer: GGUFFile) -> [String: Any] {
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
        var config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "hidden_size": model.config.hiddenSize, "head_dim": model.config.headDim,
            "intermediate_size": model.layers.map(\.ffnWidth).max() ?? 0,
            "num_attention_heads": model.layers.map(\.queryHeads).max() ?? 0,
            "num_key_value_heads": model.layers.map(\.kvHeads).max() ?? 0,
            "num_hidden_layers": model.layers.count, "vocab_size": model.config.vocabularySize,
            "rms_norm_eps": Double(model.config.rmsEpsilon), "rope_theta": model.config.ropeBase,
            "max_position_embeddings": model.config.contextLength, "tie_word_embeddings": model.lmHead == nil,
            "attention_bias": model.layers.contains { $0.qkv.bias != nil || $0.output.bias != nil },
            "mlp_bias": model.layers.contains { $0.gateUp.bias != nil || $0.down.bias != nil },
            "torch_dtype": dtype == .f32 ? "float32" : "float16", "bip": bip,
        ]
        if let bos = tokenizer.metadata["tokenizer.ggml.bos_token_id"]?.int { config["bos_token_id"] = bos }
        if let eos = tokenizer.metadata["tokenizer.ggml.eos_token_id"]?.int { config["eos_token_id"] = eos }
        return config
    }
}
