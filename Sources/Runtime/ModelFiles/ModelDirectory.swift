import Foundation

/// A model directory, HF-style: `model.safetensors` (HF tensor names, see `HFTensorName`;
/// rotate-half q/k rows as held in memory) or shards with `model.safetensors.index.json` (see
/// `SafetensorsCheckpoint`), `config.json` (see `HFConfig`), and the tokenizer: `tokenizer.json` +
/// `tokenizer_config.json` (HF's format, which `load` reads first) and, in directories bip writes,
/// `tokenizer.gguf` (the source vocabulary as it was, see `TokenizerFile`, the source when the
/// directory is pruned again).
///
/// A pruned model's config.json also has a `bip` section with every layer's shapes (query heads,
/// KV map, FFN width, biases) and the pruning provenance; without it every layer has the config's
/// shapes, as in any Hugging Face checkpoint. bip writes both kinds (`bip prune --output`,
/// `bip convert`) and reads both.
public enum ModelDirectory {
    public static let weightsFile = SafetensorsCheckpoint.singleFile

    /// Writes `model` to the directory `url` (created if needed; config.json last, see
    /// `beginWriting`); with `provenance` nil (a converted, unpruned model) config.json has no
    /// `bip` section, so the layers must all have one shape.
    public static func write(_ model: LlamaModel, to url: URL, dtype: Safetensors.DType = .f32,
                             provenance: PruningProvenance?, tokenizerSource: GGUFFile) throws {
        if provenance == nil, let first = model.layers.first,
           let odd = model.layers.firstIndex(where: { $0.kvHeadOfQueryHead != first.kvHeadOfQueryHead || $0.ffnWidth != first.ffnWidth }) {
            throw FileError(url.path, "layer \(odd) differs in shape from layer 0: only a pruned model (with provenance) can be written so")
        }
        try beginWriting(url)
        try Safetensors.write(tensors(model), dtype: dtype, metadata: ["format": "pt"],
                              to: url.appendingPathComponent(weightsFile))
        try TokenizerFile.write(from: tokenizerSource, to: url.appendingPathComponent(TokenizerFile.fileName))
        try HFTokenizerJSON.write(fromGGUF: tokenizerSource, to: url)
        try config(model, dtype: dtype, provenance: provenance, tokenizer: tokenizerSource)
            .write(to: url.appendingPathComponent(HFConfig.fileName))
    }

    /// Makes `url` ready for a model to be written into it: the directory exists and holds no
    /// config.json. Every file is written whole (`AtomicFile`) and config.json last, so a
    /// directory with a config.json is complete, and one whose writing failed (a full disk) is
    /// refused when loaded ("config.json: missing") instead of mixing old and new files.
    static func beginWriting(_ url: URL) throws {
        try AtomicFile.createDirectory(url)
        let config = url.appendingPathComponent(HFConfig.fileName)
        guard unlink(config.path) == 0 || errno == ENOENT else {
            throw FileError(config.path, "cannot replace: \(String(cString: strerror(errno)))")
        }
    }

    /// Whether `path` is a directory (so `--model` reads it as a model directory).
    public static func isModelDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The model's tensors under their HF names, in checkpoint order.
    static func tensors(_ model: LlamaModel) -> [Safetensors.Tensor] {
        let d = model.config.hiddenSize
        var out = [Safetensors.Tensor(name: HFTensorName.embedding, shape: [model.config.vocabularySize, d], values: model.tokenEmbedding)]
        for (l, layer) in model.layers.enumerated() {
            func add(_ projections: [HFTensorName.Projection]) {
                for projection in projections {
                    let linear = projection.linear(of: layer)
                    out.append(.init(name: projection.weight(layer: l), shape: [linear.outFeatures, linear.inFeatures], values: linear.weight.floats))
                    if let bias = linear.bias { out.append(.init(name: projection.bias(layer: l), shape: [linear.outFeatures], values: bias)) }
                }
            }
            out.append(.init(name: HFTensorName.attentionNorm(layer: l), shape: [d], values: layer.attentionNorm))
            add(HFTensorName.Projection.attention)
            out.append(.init(name: HFTensorName.ffnNorm(layer: l), shape: [d], values: layer.ffnNorm))
            add(HFTensorName.Projection.mlp)
        }
        out.append(.init(name: HFTensorName.finalNorm, shape: [d], values: model.outputNorm))
        if let head = model.lmHead { out.append(.init(name: HFTensorName.lmHead, shape: [model.config.vocabularySize, d], values: head)) }
        return out
    }

    /// config.json: the HF fields (`Qwen2ForCausalLM` for a qwen2 model, else `LlamaForCausalLM`;
    /// head counts and FFN width as the largest layer's) and, for a pruned model, the `bip` section.
    static func config(_ model: LlamaModel, dtype: Safetensors.DType, provenance: PruningProvenance?, tokenizer: GGUFFile) -> HFConfig {
        let qwen2 = model.config.architecture == "qwen2"
        var config = HFConfig(
            architectures: [qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], modelType: qwen2 ? "qwen2" : "llama",
            hiddenAct: "silu", hiddenSize: model.config.hiddenSize, headDim: model.config.headDim,
            ffnWidth: model.layers.map(\.ffnWidth).max() ?? 0, queryHeads: model.layers.map(\.queryHeads).max() ?? 0,
            kvHeads: model.layers.map(\.kvHeads).max() ?? 0, layerCount: model.layers.count,
            vocabularySize: model.config.vocabularySize, rmsEpsilon: Double("\(model.config.rmsEpsilon)")!,
            ropeBase: model.config.ropeBase, contextLength: model.config.contextLength, tiedEmbeddings: model.lmHead == nil,
            torchDType: dtype == .f32 ? "float32" : "float16",
            bosTokenID: tokenizer.metadata["tokenizer.ggml.bos_token_id"]?.int,
            eosTokenID: tokenizer.metadata["tokenizer.ggml.eos_token_id"]?.int,
            bip: provenance.map { HFConfig.BIPSection(model, provenance: $0) })
        if qwen2 {
            config.useSlidingWindow = false
        } else {
            // HF's meaning: every attention (MLP) projection of every layer has a bias. Other biases
            // (FLAP's on o_proj and down_proj) are in the file and the `bip` section and load as present.
            config.attentionBias = model.layers.allSatisfy { $0.qkv.bias != nil && $0.output.bias != nil }
            config.mlpBias = model.layers.allSatisfy { $0.gateUp.bias != nil && $0.down.bias != nil }
        }
        return config
    }
}
