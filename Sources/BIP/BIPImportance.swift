import Runtime

/// LLM-BIP (arXiv 2412.06419): a unit's score bounds its influence on its own block's output.
///
///     c[m]  = Σ_n |down[n, m]|                FFN channel m: sF[m] = mean_t |Z[t, m]| * c[m] (exact)
///     r[k]  = 1 + Σ_m |up[m, k]| * c[m]        residual path + FFN path bound
///     sH[j] = mean_t |A[t, j]| * Σ_k |o[k, j]| * r[k];  head score = Σ of sH over the head's columns
///
/// The variants change only `r`: `bip-local` r = 1; `bip-gate` uses |up| + |gate|; `bip-norm`
/// scales the FFN path of coordinate k by |g2[k]| / mean_t rms(H).
public struct BIPImportance: ImportanceMethod, StatisticsScorer {
    /// The variant, by its method name: how `r` bounds the FFN path (see above).
    public enum Variant: String, Sendable {
        case standard = "bip", local = "bip-local", gate = "bip-gate", norm = "bip-norm"
    }

    public let variant: Variant
    public var name: String { variant.rawValue }
    public var reads: ImportanceInput { .statistics(self) }
    public var paperSetting: PruningSetting { PruningSetting(allocation: .uniform, biasCompensation: false, statistics: .oneShot) }

    public init(variant: Variant) { self.variant = variant }

    public func scores(layer: DecoderLayer, index: Int, statistics stats: LayerStatistics) -> UnitScores {
        let c = WeightNorms.columnL1(layer.down)
        let aF = ChannelMoments.meanAbs(stats.zSumAbs, tokens: stats.tokens)
        let aH = ChannelMoments.meanAbs(stats.aSumAbs, tokens: stats.tokens)
        let throughOutput = WeightNorms.absTransposeTimes(layer.output, pathBound(layer: layer, c: c, statistics: stats))
        return UnitScores(heads: ScoreMath.groupSums(zip(aH, throughOutput).map(*), size: layer.headDim),
                          channels: zip(aF, c).map(*))
    }

    /// `r[k]`, the bound on how much a unit change of hidden coordinate k moves the block output.
    func pathBound(layer: DecoderLayer, c: [Double], statistics: LayerStatistics) -> [Double] {
        switch variant {
        case .local:
            return [Double](repeating: 1, count: layer.hiddenSize)
        case .standard:
            return WeightNorms.absTransposeTimes(layer.up, c).map { 1 + $0 }
        case .gate:
            let up = WeightNorms.absTransposeTimes(layer.up, c), gate = WeightNorms.absTransposeTimes(layer.gate, c)
            return zip(up, gate).map { 1 + $0 + $1 }
        case .norm:
            let up = WeightNorms.absTransposeTimes(layer.up, c), rbar = statistics.hRMSMean
            return zip(up, layer.ffnNorm).map { 1 + Swift.abs(Double($1)) / rbar * $0 }
        }
    }
}
