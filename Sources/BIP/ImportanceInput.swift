import Runtime

/// What a method reads to score a layer; each case carries the scorer that reads it.
public enum ImportanceInput: Sendable {
    /// The weights only: no calibration data.
    case weights(any WeightScorer)
    /// Calibration statistics of each layer, taken in the pass the `PruningSetting` says.
    case statistics(any StatisticsScorer)
    /// Gradients of the calibration loss, by default on the method's own calibration.
    case gradients(any GradientScorer, calibration: CalibrationSource)

    /// Whether pruning draws calibration data (statistics or gradients).
    public var readsCalibration: Bool {
        if case .weights = self { return false }
        return true
    }

    /// Whether the method scores from calibration statistics (and so has a statistics pass and
    /// may compensate removed units with a bias).
    public var readsStatistics: Bool {
        if case .statistics = self { return true }
        return false
    }
}

/// When a layer's calibration statistics are taken (`--statistics`).
public enum StatisticsPass: String, Sendable, CaseIterable, Codable {
    /// On the dense model, every layer in one calibration pass.
    case oneShot = "one-shot"
    /// Each layer's after the earlier layers were pruned (Wanda-sp's); allocation must then be uniform.
    case sequential
}

/// Scores a layer from its weights alone.
public protocol WeightScorer: Sendable {
    /// The scores of `layer`, the model's layer `index`.
    func scores(layer: DecoderLayer, index: Int) -> UnitScores
}

/// Scores a layer from its weights and its calibration statistics.
public protocol StatisticsScorer: Sendable {
    /// The scores of `layer`, the model's layer `index`, whose calibration statistics are `statistics`.
    func scores(layer: DecoderLayer, index: Int, statistics: LayerStatistics) -> UnitScores
}

/// Scores layers from the gradients of the calibration loss, which need the whole model.
public protocol GradientScorer: Sendable {
    /// The scores of every layer in `layers` of `model`, from gradients on `calibration`.
    func scores(model: LlamaModel, calibration: [[Int]], layers: Range<Int>,
                progress: (String) -> Void) throws -> [Int: UnitScores]
}
