/// Arithmetic cost of a forward pass, computed from the shapes of each layer.
public enum ModelCost {
    /// Multiply-accumulates per token for a window of `context` tokens: every projection, the LM
    /// head, and attention (QKᵀ and PV over the causal average of (context + 1) / 2 keys).
    public static func macsPerToken(_ model: LlamaModel, context: Int) -> Double {
        let averageKeys = Double(context + 1) / 2
        var macs = Double(model.config.vocabularySize * model.config.hiddenSize)
        for layer in model.layers {
            macs += Double(layer.qkv.weight.count + layer.output.weight.count + layer.gateUp.weight.count + layer.down.weight.count)
            macs += 2 * averageKeys * Double(layer.qWidth)
        }
        return macs
    }
}
