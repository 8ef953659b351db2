import Runtime

/// Parameter counts of a model as the pruning papers report them: the total (embeddings
/// included, the LLM-Pruner / LLM-BIP convention) and the attention + MLP part (FLAP's).
public struct ParameterAccounting: Sendable, Equatable {
    public let total: Int
    public let attention: Int
    public let mlp: Int

    public init(_ model: LlamaModel) {
        total = model.parameterCount
        attention = model.layers.reduce(0) { $0 + $1.qkv.parameterCount + $1.output.parameterCount }
        mlp = model.layers.reduce(0) { $0 + $1.gateUp.parameterCount + $1.down.parameterCount }
    }

    public var attentionAndMLP: Int { attention + mlp }
}
