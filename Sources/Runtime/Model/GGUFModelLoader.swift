/// Builds a `LlamaModel` from a GGUF file of architecture `llama` or `qwen2`.
///
/// RoPE layout: for `llama`, llama.cpp's converter permutes the rows of `attn_q` and `attn_k` inside
/// each head so that RoPE rotates adjacent pairs (2i, 2i+1). bip's forward pass uses the HF
/// rotate-half layout (pairs i, i + headDim/2), so the loader undoes the permutation: GGUF row
/// `2j + i` of a head is HF row `i * headDim/2 + j` (i in 0...1, j in 0..<headDim/2). Both layouts
/// give the same scores. For `qwen2` the converter keeps HF's row order (llama.cpp runs it with
/// rotate-half RoPE), so its rows are used as stored.
///
/// Biases: any projection may carry a `.bias` next to its `.weight` (Qwen2 has them on `attn_q`,
/// `attn_k` and `attn_v`); q and k biases are un-permuted with their rows. The LM head is `output.weight`
/// when present, else tied to the embedding. The RoPE base is `<arch>.rope.freq_base` (default 10000).
public enum GGUFModelLoader {
    /// The architectures bip runs, and whether llama.cpp stores their q/k rows permuted.
    static let permutesQueryKeyRows = ["llama": true, "qwen2": false]

    public static func load(_ gguf: GGUFFile) throws -> LlamaModel {
        let path = gguf.path
        let arch = try gguf.requireString("general.architecture")
        guard let permuted = permutesQueryKeyRows[arch] else {
            let known = permutesQueryKeyRows.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw FileError(path, "architecture '\(arch)' is not supported (bip runs \(known))")
        }
        func int(_ key: String) throws -> Int {
            let v = try gguf.requireInt("\(arch).\(key)")
            guard v > 0, v < 1 << 24 else { throw FileError(path, "metadata '\(arch).\(key)' = \(v) is impossible") }
            return v
        }
        let layerCount = try int("block_count")
        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = gguf.metadata["\(arch).attention.head_count_kv"] == nil ? heads : try int("attention.head_count_kv")
        let ffn = try int("feed_forward_length")
        guard hidden % heads == 0, heads % kvHeads == 0 else {
            throw FileError(path, "\(heads) heads and \(kvHeads) KV heads do not divide embedding length \(hidden)")
        }
        let headDim = hidden / heads
        guard headDim % 2 == 0 else { throw FileError(path, "head dimension \(headDim) is odd") }
        let ropeBase = gguf.metadata["\(arch).rope.freq_base"]?.double ?? 10000
        let eps = gguf.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.float ?? 1e-5
        let context = (try? int("context_length")) ?? 2048

        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            let info = try gguf.requireTensor(name)
            guard info.dims == shape else {
                throw FileError(path, "tensor '\(name)' has shape \(info.dims), expected \(shape)")
            }
            return try gguf.floats(info)
        }
        let embeddingInfo = try gguf.requireTensor("token_embd.weight")
        guard embeddingInfo.dims.count == 2, embeddingInfo.dims[0] == hidden else {
            throw FileError(path, "tensor 'token_embd.weight' has shape \(embeddingInfo.dims), expected [\(hidden), vocabulary]")
        }
        let vocab = embeddingInfo.dims[1]
        if let declared = gguf.metadata["\(arch).vocab_size"]?.int, declared != vocab {
            throw FileError(path, "\(arch).vocab_size is \(declared) but token_embd.weight has \(vocab) rows")
        }

        /// The projection `name` (`[out, in]` in HF terms), with its bias if the file has one; rows
        /// in llama.cpp's RoPE order are un-permuted when `ropeHeads` is given.
        func linear(_ name: String, out: Int, in inFeatures: Int, ropeHeads: Int? = nil) throws -> Linear {
            var weight = try tensor(name + ".weight", [inFeatures, out])
            var bias = gguf.tensor(name + ".bias") == nil ? nil : try tensor(name + ".bias", [out])
            if permuted, let ropeHeads {
                weight = unpermuteRoPE(weight, heads: ropeHeads, headDim: headDim, columns: inFeatures)
                bias = bias.map { unpermuteRoPE($0, heads: ropeHeads, headDim: headDim, columns: 1) }
            }
            return Linear(weight: weight, bias: bias, outFeatures: out, inFeatures: inFeatures)
        }

        let group = heads / kvHeads
        var layers: [DecoderLayer] = []
        for l in 0..<layerCount {
            let p = "blk.\(l)."
            layers.append(DecoderLayer(
                attentionNorm: try tensor(p + "attn_norm.weight", [hidden]),
                q: try linear(p + "attn_q", out: heads * headDim, in: hidden, ropeHeads: heads),
                k: try linear(p + "attn_k", out: kvHeads * headDim, in: hidden, ropeHeads: kvHeads),
                v: try linear(p + "attn_v", out: kvHeads * headDim, in: hidden),
                output: try linear(p + "attn_output", out: hidden, in: heads * headDim),
                ffnNorm: try tensor(p + "ffn_norm.weight", [hidden]),
                gate: try linear(p + "ffn_gate", out: ffn, in: hidden),
                up: try linear(p + "ffn_up", out: ffn, in: hidden),
                down: try linear(p + "ffn_down", out: hidden, in: ffn),
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
