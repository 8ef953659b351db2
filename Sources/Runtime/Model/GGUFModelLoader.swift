/// Builds a `LlamaModel` from a GGUF file of architecture `llama`.
///
/// RoPE layout: llama.cpp's converter permutes the rows of `attn_q` and `attn_k` inside each head so
/// that RoPE rotates adjacent pairs (2i, 2i+1). bip's forward pass uses the HF rotate-half layout
/// (pairs i, i + headDim/2), so the loader undoes the permutation: GGUF row `2j + i` of a head is
/// HF row `i * headDim/2 + j` (i in 0...1, j in 0..<headDim/2). Both layouts give the same scores.
public enum GGUFModelLoader {
    public static func load(_ gguf: GGUFFile) throws -> LlamaModel {
        let path = gguf.path
        let arch = try gguf.requireString("general.architecture")
        guard arch == "llama" else {
            throw ModelFileError(path, "architecture '\(arch)' is not supported (bip runs 'llama')")
        }
        func int(_ key: String) throws -> Int {
            let v = try gguf.requireInt("\(arch).\(key)")
            guard v > 0, v < 1 << 24 else { throw ModelFileError(path, "metadata '\(arch).\(key)' = \(v) is impossible") }
            return v
        }
        let layerCount = try int("block_count")
        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = gguf.metadata["\(arch).attention.head_count_kv"] == nil ? heads : try int("attention.head_count_kv")
        let ffn = try int("feed_forward_length")
        guard hidden % heads == 0, heads % kvHeads == 0 else {
            throw ModelFileError(path, "\(heads) heads and \(kvHeads) KV heads do not divide embedding length \(hidden)")
        }
        let headDim = hidden / heads
        guard headDim % 2 == 0 else { throw ModelFileError(path, "head dimension \(headDim) is odd") }
        let ropeBase = gguf.metadata["\(arch).rope.freq_base"]?.double ?? 10000
        let eps = gguf.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.float ?? 1e-5
        let context = (try? int("context_length")) ?? 2048

        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            let info = try gguf.requireTensor(name)
            guard info.dims == shape else {
                throw ModelFileError(path, "tensor '\(name)' has shape \(info.dims), expected \(shape)")
            }
            return try gguf.floats(info)
        }
        let embeddingInfo = try gguf.requireTensor("token_embd.weight")
        guard embeddingInfo.dims.count == 2, embeddingInfo.dims[0] == hidden else {
            throw ModelFileError(path, "tensor 'token_embd.weight' has shape \(embeddingInfo.dims), expected [\(hidden), vocabulary]")
        }
        let vocab = embeddingInfo.dims[1]
        if let declared = gguf.metadata["\(arch).vocab_size"]?.int, declared != vocab {
            throw ModelFileError(path, "\(arch).vocab_size is \(declared) but token_embd.weight has \(vocab) rows")
        }

        let group = heads / kvHeads
        var layers: [DecoderLayer] = []
        for l in 0..<layerCount {
            let p = "blk.\(l)."
            let q = unpermuteRoPE(try tensor(p + "attn_q.weight", [hidden, heads * headDim]), heads: heads, headDim: headDim, columns: hidden)
            let k = unpermuteRoPE(try tensor(p + "attn_k.weight", [hidden, kvHeads * headDim]), heads: kvHeads, headDim: headDim, columns: hidden)
            layers.append(DecoderLayer(
                attentionNorm: try tensor(p + "attn_norm.weight", [hidden]),
                q: Linear(weight: q, outFeatures: heads * headDim, inFeatures: hidden),
                k: Linear(weight: k, outFeatures: kvHeads * headDim, inFeatures: hidden),
                v: Linear(weight: try tensor(p + "attn_v.weight", [hidden, kvHeads * headDim]), outFeatures: kvHeads * headDim, inFeatures: hidden),
                output: Linear(weight: try tensor(p + "attn_output.weight", [heads * headDim, hidden]), outFeatures: hidden, inFeatures: heads * headDim),
                ffnNorm: try tensor(p + "ffn_norm.weight", [hidden]),
                gate: Linear(weight: try tensor(p + "ffn_gate.weight", [hidden, ffn]), outFeatures: ffn, inFeatures: hidden),
                up: Linear(weight: try tensor(p + "ffn_up.weight", [hidden, ffn]), outFeatures: ffn, inFeatures: hidden),
                down: Linear(weight: try tensor(p + "ffn_down.weight", [ffn, hidden]), outFeatures: hidden, inFeatures: ffn),
                kvHeadOfQueryHead: (0..<heads).map { $0 / group },
                headDim: headDim))
        }
        let config = ModelConfig(architecture: arch, vocabularySize: vocab, hiddenSize: hidden, headDim: headDim,
                                 ropeBase: ropeBase, rmsEpsilon: eps, contextLength: context)
        return LlamaModel(
            config: config,
            tokenEmbedding: try gguf.floats(embeddingInfo),
            layers: layers,
            outputNorm: try tensor("output_norm.weight", [hidden]),
            lmHead: gguf.tensor("output.weight") == nil ? nil : try tensor("output.weight", [hidden, vocab]))
    }

    /// Rows of a `[heads * headDim, columns]` matrix from llama.cpp's RoPE layout to HF's.
    public static func unpermuteRoPE(_ w: [Float], heads: Int, headDim: Int, columns: Int) -> [Float] {
        var out = w
        let half = headDim / 2
        for h in 0..<heads {
            for i in 0..<2 {
                for j in 0..<half {
                    let src = (h * headDim + 2 * j + i) * columns
                    let dst = (h * headDim + i * half + j) * columns
                    out[dst..<(dst + columns)] = w[src..<(src + columns)]
                }
            }
        }
        return out
    }
}
