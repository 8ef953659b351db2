import Runtime

/// FLAP: the fluctuation `V_j` (sample variance of input channel j over the calibration tokens,
/// denominator N-1) times `||W[:, j]||²`; o_proj column scores are squared once more, as FLAP's
/// code does. Scores are standardized per layer (channels over the layer's FFN channels, o_proj
/// columns over the layer's columns; a head scores the mean of its columns). FLAP allocates
/// globally and compensates the removed channels' mean contribution with a bias.
public struct FLAPImportance: ImportanceMethod, StatisticsScorer {
    public var name: String { "flap" }
    public var reads: ImportanceInput { .statistics(self) }
    public var paperSetting: PruningSetting { PruningSetting(allocation: .global, biasCompensation: true, statistics: .oneShot) }

    public init() {}

    public func scores(layer: DecoderLayer, index: Int, statistics: LayerStatistics) -> UnitScores {
        let raw = rawScores(layer: layer, statistics: statistics)
        return UnitScores(heads: ScoreMath.groupMeans(ScoreMath.standardized(raw.outputColumns), size: layer.headDim),
                          channels: ScoreMath.standardized(raw.channels), scale: .standardized)
    }

    /// Unstandardized scores: per o_proj column and per FFN channel.
    func rawScores(layer: DecoderLayer, statistics stats: LayerStatistics) -> (outputColumns: [Double], channels: [Double]) {
        let vA = ChannelMoments.variance(sum: stats.aSum, sumSquares: stats.aSumSquares, tokens: stats.tokens)
        let vZ = ChannelMoments.variance(sum: stats.zSum, sumSquares: stats.zSumSquares, tokens: stats.tokens)
        let columns = zip(vA, WeightNorms.columnSquares(layer.output)).map { ($0 * $1) * ($0 * $1) }
        return (columns, zip(vZ, WeightNorms.columnSquares(layer.down)).map(*))
    }
}
