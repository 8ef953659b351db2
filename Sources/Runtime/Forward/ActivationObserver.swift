/// The places in a decoder layer whose activations a caller can watch.
public enum ActivationSite: Sendable {
    /// A: the input of o_proj (the attention heads' outputs side by side), `[tokens, queryHeads*headDim]`.
    case attentionOutputInput
    /// H: the residual stream after attention, the input of the post-attention RMSNorm, `[tokens, hidden]`.
    case ffnNormInput
    /// Z: the input of down_proj, `silu(gate) * up`, `[tokens, ffnWidth]`.
    case downProjInput
    /// The residual stream leaving the layer, `H + down_proj(Z)`, `[tokens, hidden]`.
    case blockOutput
}

/// Sees activations during a forward pass (pruning statistics use it), with no second copy of
/// the forward code. Rows are the batch's tokens, packed in input order, no padding.
public protocol ActivationObserver: AnyObject {
    func observe(_ site: ActivationSite, layer: Int, rows: UnsafePointer<Float>, count: Int, width: Int)
}
