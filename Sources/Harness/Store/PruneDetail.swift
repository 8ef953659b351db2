import BIP
import Foundation
import Runtime

/// What a pruning made, stored with its sweep job (`prune_detail`, sorted-key JSON): the sparsity
/// reached overall and in attention + MLP, the parameter counts, each layer's shape, and the
/// seconds of each phase.
public struct PruneDetail: Codable, Equatable, Sendable {
    public var sparsityReached: Double
    public var attentionMLPSparsity: Double
    public var parametersBefore: Int
    public var parametersAfter: Int
    public var layers: [Layer]
    /// Seconds by phase (`total`, `tune`, the pruner's phases); empty for a model found in the cache.
    public var seconds: [String: Double]

    /// One layer's shape after pruning.
    public struct Layer: Codable, Equatable, Sendable {
        public var heads: Int
        public var kvHeads: Int
        public var ffn: Int

        enum CodingKeys: String, CodingKey {
            case heads, ffn
            case kvHeads = "kv_heads"
        }
    }

    enum CodingKeys: String, CodingKey {
        case layers, seconds
        case sparsityReached = "sparsity_reached", attentionMLPSparsity = "attention_mlp_sparsity"
        case parametersBefore = "parameters_before", parametersAfter = "parameters_after"
    }
}

extension PruneDetail {
    /// The facts of `model` pruned from `source`.
    public init(_ model: LlamaModel, source: LlamaModel, seconds: [String: Double]) {
        let before = ParameterAccounting(source), after = ParameterAccounting(model)
        self.init(sparsityReached: 1 - Double(after.total) / Double(before.total),
                  attentionMLPSparsity: 1 - Double(after.attentionAndMLP) / Double(before.attentionAndMLP),
                  parametersBefore: before.total, parametersAfter: after.total,
                  layers: model.layers.map { Layer(heads: $0.queryHeads, kvHeads: $0.kvHeads, ffn: $0.ffnWidth) },
                  seconds: seconds)
    }
}
