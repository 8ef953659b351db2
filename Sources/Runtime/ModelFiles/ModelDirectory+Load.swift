import Foundation

extension ModelDirectory {
    /// Reads a model directory: a bip-written one or a Hugging Face checkpoint (with tokenizer.gguf
    /// or tokenizer.json).
    public static func load(_ url: URL) throws -> LoadedModel {
        let config = try HFConfig.read(from: url.appendingPathComponent(HFConfig.fileName))
        let weights = try SafetensorsCheckpoint(directory: url)
        let d = config.hiddenSize, hd = config.headDim, vocab = config.vocabularySize

        let layerShapes: [HFConfig.BIPSection.Layer]
        if let bip = config.bip {
            layerShapes = bip.layers
        } else {
            guard config.queryHeads % config.kvHeads == 0 else {
                throw FileError(url.appendingPathComponent(HFConfig.fileName).path,
                                "\(config.queryHeads) attention heads are not a multiple of \(config.kvHeads) KV heads")
            }
            let group = config.queryHeads / config.kvHeads
            let shape = HFConfig.BIPSection.Layer(kvHeads: config.kvHeads, kvHeadOfQueryHead: (0..<config.queryHeads).map { $0 / group },
                                                  ffnWidth: config.ffnWidth, biases: [])
            layerShapes = Array(repeating: shape, count: config.layerCount)
        }
        // A bip section lists each layer's biases and the file holds exactly those; the config's
        // attention_bias / mlp_bias (HF's all-or-nothing flags, written differently by older bip)
        // only say which biases a plain Hugging Face checkpoint must have.
        let requiredBiases = config.bip == nil ? config.requiredBiases : []
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try weights.floats(name, shape: shape) }
        func linear(_ projection: HFTensorName.Projection, layer l: Int, out: Int, in inFeatures: Int) throws -> Linear {
            let hasBias = requiredBiases.contains(projection) || weights.has(projection.bias(layer: l))
            return Linear(weight: try weights.matrix(projection.weight(layer: l), shape: [out, inFeatures]),
                          bias: hasBias ? try tensor(projection.bias(layer: l), [out]) : nil)
        }
        var layers: [DecoderLayer] = []
        for (l, shape) in layerShapes.enumerated() {
            let q = shape.queryHeads * hd, kv = shape.kvHeads * hd
            layers.append(DecoderLayer(
                attentionNorm: try tensor(HFTensorName.attentionNorm(layer: l), [d]),
                q: try linear(.q, layer: l, out: q, in: d),
                k: try linear(.k, layer: l, out: kv, in: d),
                v: try linear(.v, layer: l, out: kv, in: d),
                output: try linear(.o, layer: l, out: d, in: q),
                ffnNorm: try tensor(HFTensorName.ffnNorm(layer: l), [d]),
                gate: try linear(.gate, layer: l, out: shape.ffnWidth, in: d),
                up: try linear(.up, layer: l, out: shape.ffnWidth, in: d),
                down: try linear(.down, layer: l, out: d, in: shape.ffnWidth),
                kvHeadOfQueryHead: shape.kvHeadOfQueryHead, headDim: hd))
        }
        let tied = config.tiedEmbeddings ?? !weights.has(HFTensorName.lmHead)
        let model = LlamaModel(config: config.modelConfig, tokenEmbedding: try tensor(HFTensorName.embedding, [vocab, d]),
                               layers: layers, outputNorm: try tensor(HFTensorName.finalNorm, [d]),
                               lmHead: tied ? nil : try tensor(HFTensorName.lmHead, [vocab, d]))
        let tokenizer = try TokenizerLoader.load(path: url.path)
        return LoadedModel(path: url.path, weightsFile: weights.identityFile, model: model, tokenizer: tokenizer)
    }
}
