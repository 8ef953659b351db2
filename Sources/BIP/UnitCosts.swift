import Runtime

/// What removing one unit of a layer saves, in parameters, from the layer's actual shapes.
public struct UnitCosts: Sendable, Equatable {
    /// A query head: its q_proj rows (and bias) and o_proj columns.
    public let queryHead: Int
    /// A KV head, removed with the last query head that reads it: its k_proj and v_proj rows.
    public let kvHead: Int
    /// An FFN channel: its gate_proj and up_proj rows (and biases) and its down_proj column.
    public let channel: Int

    public init(_ layer: DecoderLayer) {
        let hd = layer.headDim, d = layer.hiddenSize
        let qkvBias = layer.qkv.bias == nil ? 0 : 1, gateUpBias = layer.gateUp.bias == nil ? 0 : 1
        queryHead = hd * (d + qkvBias) + layer.output.outFeatures * hd
        kvHead = 2 * hd * (d + qkvBias)
        channel = 2 * (d + gateUpBias) + layer.down.outFeatures
    }

    /// The parameters of the layer's projections (what pruning can act on).
    public static func projections(_ layer: DecoderLayer) -> Int {
        layer.qkv.parameterCount + layer.output.parameterCount + layer.gateUp.parameterCount + layer.down.parameterCount
    }

    /// The most a layer can lose while keeping one query head (and its KV head) and one channel.
    public static func removable(_ layer: DecoderLayer) -> Int {
        let costs = UnitCosts(layer)
        return max(0, layer.queryHeads - 1) * costs.queryHead + max(0, layer.kvHeads - 1) * costs.kvHead
            + max(0, layer.ffnWidth - 1) * costs.channel
    }
}
