import Runtime

/// Random scores, uniform in [0, 1), from `SeededGenerator(seed)` mixed with the layer index:
/// the same seed prunes the same units.
public struct RandomImportance: ImportanceMethod, WeightScorer {
    public let seed: UInt64
    public var name: String { "random" }
    public var reads: ImportanceInput { .weights(self) }
    public var paperSetting: PruningSetting { .standard }

    public init(seed: UInt64) { self.seed = seed }

    public func scores(layer: DecoderLayer, index: Int) -> UnitScores {
        var generator = SeededGenerator(seed: seed ^ (UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03))
        let heads = (0..<layer.queryHeads).map { _ in generator.unit() }
        return UnitScores(heads: heads, channels: (0..<layer.ffnWidth).map { _ in generator.unit() })
    }
}
