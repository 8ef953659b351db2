import Runtime

/// `∂L/∂W` of every projection weight of one decoder layer, in the layout of the weights
/// themselves (q/k/v stacked, gate/up stacked, `[out, in]` row-major).
public struct LayerWeightGradients: Sendable {
    public var qkv: [Float]
    public var output: [Float]
    public var gateUp: [Float]
    public var down: [Float]

    public init(zerosLike layer: DecoderLayer) {
        qkv = [Float](repeating: 0, count: layer.qkv.weight.count)
        output = [Float](repeating: 0, count: layer.output.weight.count)
        gateUp = [Float](repeating: 0, count: layer.gateUp.weight.count)
        down = [Float](repeating: 0, count: layer.down.weight.count)
    }

    /// The gradient of `projection`'s weight.
    public subscript(projection: Projection) -> [Float] {
        switch projection {
        case .qkv: qkv
        case .output: output
        case .gateUp: gateUp
        case .down: down
        }
    }

    /// Runs `body` on the storage of `projection`'s gradient, in place.
    public mutating func withGradient<R>(_ projection: Projection, _ body: (UnsafeMutableBufferPointer<Float>) -> R) -> R {
        switch projection {
        case .qkv: qkv.withUnsafeMutableBufferPointer { body($0) }
        case .output: output.withUnsafeMutableBufferPointer { body($0) }
        case .gateUp: gateUp.withUnsafeMutableBufferPointer { body($0) }
        case .down: down.withUnsafeMutableBufferPointer { body($0) }
        }
    }
}

/// What a backward pass differentiates with respect to.
public enum GradientTarget: Sendable {
    /// Every projection weight of every layer (LLM-Pruner's Taylor scores).
    case weights
    /// Only the adapters' parameters (LoRA tuning; the model's weights stay fixed).
    case adapters
}

/// The result of one forward and backward pass over a batch.
public struct BatchGradients: Sendable {
    /// Σ over the batch's target positions of the cross-entropy, in nats.
    public var lossSum: Double
    /// Target positions in the batch.
    public var targets: Int
    /// `∂(scale · lossSum)/∂W` per layer, for `.weights`.
    public var weights: [LayerWeightGradients]?
    /// `∂(scale · lossSum)/∂θ` in the layout of `LoRA.values`, for `.adapters`.
    public var adapters: [Float]?
}
