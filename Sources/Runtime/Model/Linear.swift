/// A linear map `y = x · Wᵀ + b` with `W` stored `[outFeatures, inFeatures]` row-major (HF layout).
public struct Linear: Sendable {
    public var weight: [Float]
    public var bias: [Float]?
    public let outFeatures: Int
    public let inFeatures: Int

    public init(weight: [Float], bias: [Float]? = nil, outFeatures: Int, inFeatures: Int) {
        precondition(weight.count == outFeatures * inFeatures, "weight is not [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "bias is not [\(outFeatures)]")
        self.weight = weight
        self.bias = bias
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
    }

    /// Rows `range` of the weight (and bias) as a new linear map.
    public func rows(_ range: Range<Int>) -> Linear {
        Linear(weight: Array(weight[(range.lowerBound * inFeatures)..<(range.upperBound * inFeatures)]),
               bias: bias.map { Array($0[range]) },
               outFeatures: range.count, inFeatures: inFeatures)
    }

    /// The maps stacked on top of each other: their outputs side by side, as one product.
    public static func stacked(_ parts: [Linear]) -> Linear {
        let inFeatures = parts[0].inFeatures
        precondition(parts.allSatisfy { $0.inFeatures == inFeatures })
        let anyBias = parts.contains { $0.bias != nil }
        return Linear(weight: parts.flatMap(\.weight),
                      bias: anyBias ? parts.flatMap { $0.bias ?? [Float](repeating: 0, count: $0.outFeatures) } : nil,
                      outFeatures: parts.reduce(0) { $0 + $1.outFeatures }, inFeatures: inFeatures)
    }

    public var parameterCount: Int { weight.count + (bias?.count ?? 0) }
}
