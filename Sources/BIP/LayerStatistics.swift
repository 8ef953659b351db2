/// Float64 calibration statistics of one decoder layer, summed over every calibration token:
/// per channel of A (the input of o_proj) and of Z (the input of down_proj) the sums of |x|, x
/// and x², and the sum over tokens of rms(H) (H = the input of the post-attention norm, rms with eps).
public struct LayerStatistics: Sendable {
    public var aSumAbs: [Double], aSum: [Double], aSumSquares: [Double]
    public var zSumAbs: [Double], zSum: [Double], zSumSquares: [Double]
    public var hRMSSum: Double
    public var tokens: Int

    public init(attentionWidth: Int, ffnWidth: Int) {
        let a = [Double](repeating: 0, count: attentionWidth), z = [Double](repeating: 0, count: ffnWidth)
        (aSumAbs, aSum, aSumSquares) = (a, a, a)
        (zSumAbs, zSum, zSumSquares) = (z, z, z)
        hRMSSum = 0
        tokens = 0
    }

    /// Mean over tokens of rms(H): the `rbar` of bip-norm.
    public var hRMSMean: Double { hRMSSum / Double(tokens) }
}

/// Per-channel moments derived from running sums.
enum ChannelMoments {
    /// `mean_t |x|` per channel.
    static func meanAbs(_ sumAbs: [Double], tokens: Int) -> [Double] { sumAbs.map { $0 / Double(tokens) } }

    /// `mean_t x` per channel.
    static func mean(_ sum: [Double], tokens: Int) -> [Double] { sum.map { $0 / Double(tokens) } }

    /// `sqrt(Σ_t x²)` per channel (Wanda's input norm, not divided by N).
    static func l2(_ sumSquares: [Double]) -> [Double] { sumSquares.map { $0.squareRoot() } }

    /// The sample variance per channel, denominator N-1 (FLAP's fluctuation).
    static func variance(sum: [Double], sumSquares: [Double], tokens: Int) -> [Double] {
        let n = Double(tokens)
        return zip(sum, sumSquares).map { s, q in max(0, (q - s * s / n) / max(1, n - 1)) }
    }
}
