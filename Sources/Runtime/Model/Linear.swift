/// A linear map `y = x · Wᵀ + b` with `W` stored `[outFeatures, inFeatures]` row-major (HF layout).
public struct Linear: Sendable {
    public var weight: WeightMatrix
    public var bias: [Float]?
    public var outFeatures: Int { weight.rows }
    public var inFeatures: Int { weight.columns }

    public init(weight: WeightMatrix, bias: [Float]? = nil) {
        precondition(bias == nil || bias!.count == weight.rows, "bias is not [\(weight.rows)]")
        self.weight = weight
        self.bias = bias
    }

    /// A map with Float32 weights.
    public init(weight: [Float], bias: [Float]? = nil, outFeatures: Int, inFeatures: Int) {
        self.init(weight: WeightMatrix(weight, rows: outFeatures, columns: inFeatures), bias: bias)
    }

    /// Rows `range` of the weight (and bias) as a new linear map.
    public func rows(_ range: Range<Int>) -> Linear {
        Linear(weight: weight.selectingRows(Array(range)), bias: bias.map { Array($0[range]) })
    }

    /// The maps stacked on top of each other: their outputs side by side, as one product.
    public static func stacked(_ parts: [Linear]) -> Linear {
        let anyBias = parts.contains { $0.bias != nil }
        return Linear(weight: .stacked(parts.map(\.weight)),
                      bias: anyBias ? parts.flatMap { $0.bias ?? [Float](repeating: 0, count: $0.outFeatures) } : nil)
    }

    public var parameterCount: Int { weight.count + (bias?.count ?? 0) }
}
