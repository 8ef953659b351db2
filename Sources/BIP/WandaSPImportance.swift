import Runtime

/// Wanda-sp: channel j of a projection's input scores `mean_i |W[i, j]| * ||X_j||_2` (the norm over
/// all calibration tokens, not divided by N), on o_proj (A) and down_proj (Z); a head scores the
/// sum over its columns. Sequential: each layer's statistics are taken after the earlier layers
/// were pruned; allocation is uniform.
public struct WandaSPImportance: ImportanceMethod, StatisticsScorer {
    public var name: String { "wanda-sp" }
    public var reads: ImportanceInput { .statistics(self) }
    public var paperSetting: PruningSetting { PruningSetting(allocation: .uniform, biasCompensation: false, statistics: .sequential) }

    public init() {}

    public func scores(layer: DecoderLayer, index: Int, statistics stats: LayerStatistics) -> UnitScores {
        func channelScores(_ w: Linear, _ sumSquares: [Double]) -> [Double] {
            zip(WeightNorms.columnL1(w), ChannelMoments.l2(sumSquares)).map { $0 / Double(w.outFeatures) * $1 }
        }
        return UnitScores(heads: ScoreMath.groupSums(channelScores(layer.output, stats.aSumSquares), size: layer.headDim),
                          channels: channelScores(layer.down, stats.zSumSquares))
    }
}
