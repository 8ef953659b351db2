/// One transformer block of a LLaMA-family model, with its own shapes:
///
///     h = x + o_proj(attention(q, k, v))   with q, k, v = projections of rmsNorm(x, attentionNorm)
///     y = h + down_proj(silu(gate) * up)    with gate, up = projections of rmsNorm(h, ffnNorm)
///
/// q/k/v are stored stacked as one `[q rows; k rows; v rows]` map and gate/up as `[gate rows; up rows]`,
/// so each is a single matrix product. Query and key rows use the rotate-half RoPE layout (HF's):
/// within each head, dimension i is paired with i + headDim/2 (GGUF files are un-permuted on load).
/// A pruned layer may keep any subset of query heads (`kvHeadOfQueryHead` maps each to its KV head),
/// of KV heads and of FFN channels, and may carry biases on any projection.
public struct DecoderLayer: Sendable {
    public var attentionNorm: [Float]
    public var qkv: Linear
    public var output: Linear
    public var ffnNorm: [Float]
    public var gateUp: Linear
    public var down: Linear
    /// For each query head of this layer, the index of the KV head it reads (in 0..<kvHeads).
    public var kvHeadOfQueryHead: [Int]
    public let headDim: Int

    public var queryHeads: Int { kvHeadOfQueryHead.count }
    public var kvHeads: Int { (qkv.outFeatures - queryHeads * headDim) / (2 * headDim) }
    public var ffnWidth: Int { down.inFeatures }
    public var hiddenSize: Int { attentionNorm.count }

    public init(attentionNorm: [Float], q: Linear, k: Linear, v: Linear, output: Linear,
                ffnNorm: [Float], gate: Linear, up: Linear, down: Linear,
                kvHeadOfQueryHead: [Int], headDim: Int) {
        precondition(q.outFeatures == kvHeadOfQueryHead.count * headDim)
        precondition(k.outFeatures == v.outFeatures && k.outFeatures % headDim == 0)
        precondition(kvHeadOfQueryHead.allSatisfy { (0..<(k.outFeatures / headDim)).contains($0) })
        precondition(gate.outFeatures == up.outFeatures && down.inFeatures == gate.outFeatures)
        self.attentionNorm = attentionNorm
        self.qkv = .stacked([q, k, v])
        self.output = output
        self.ffnNorm = ffnNorm
        self.gateUp = .stacked([gate, up])
        self.down = down
        self.kvHeadOfQueryHead = kvHeadOfQueryHead
        self.headDim = headDim
    }

    public var qWidth: Int { queryHeads * headDim }
    public var kvWidth: Int { kvHeads * headDim }
    public var q: Linear { qkv.rows(0..<qWidth) }
    public var k: Linear { qkv.rows(qWidth..<(qWidth + kvWidth)) }
    public var v: Linear { qkv.rows((qWidth + kvWidth)..<(qWidth + 2 * kvWidth)) }
    public var gate: Linear { gateUp.rows(0..<ffnWidth) }
    public var up: Linear { gateUp.rows(ffnWidth..<(2 * ffnWidth)) }

    public var parameterCount: Int {
        attentionNorm.count + ffnNorm.count + qkv.parameterCount + output.parameterCount
            + gateUp.parameterCount + down.parameterCount
    }
}
