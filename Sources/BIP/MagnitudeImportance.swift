import Runtime

/// Magnitude: the l1 or l2 norm of all of a unit's weights, no data. A query head owns its q_proj
/// rows and o_proj columns; an FFN channel its gate_proj and up_proj rows and down_proj column.
public struct MagnitudeImportance: ImportanceMethod, WeightScorer {
    /// The norm of the unit's weights.
    public enum Norm: String, Sendable { case l1, l2 }

    public let norm: Norm
    public var name: String { "magnitude-\(norm.rawValue)" }
    public var reads: ImportanceInput { .weights(self) }
    public var paperSetting: PruningSetting { .standard }

    public init(norm: Norm) { self.norm = norm }

    public func scores(layer: DecoderLayer, index: Int) -> UnitScores {
        let rows = norm == .l1 ? WeightNorms.rowL1 : WeightNorms.rowSquares
        let columns = norm == .l1 ? WeightNorms.columnL1 : WeightNorms.columnSquares
        let finish: (Double) -> Double = norm == .l1 ? { $0 } : { $0.squareRoot() }
        let heads = zip(ScoreMath.groupSums(rows(layer.q), size: layer.headDim),
                        ScoreMath.groupSums(columns(layer.output), size: layer.headDim)).map { finish($0 + $1) }
        let gate = rows(layer.gate), up = rows(layer.up), down = columns(layer.down)
        return UnitScores(heads: heads, channels: (0..<layer.ffnWidth).map { finish(gate[$0] + up[$0] + down[$0]) })
    }
}
