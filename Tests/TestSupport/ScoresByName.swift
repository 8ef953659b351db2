import BIP
import Runtime

extension ImportanceMethods {
    /// The scores of `layer` (model layer `index`) by the weights or statistics method `name`;
    /// a weights method does not see `statistics`. Gradient methods score whole models and are not asked.
    public static func scores(_ name: String, layer: DecoderLayer, index: Int, statistics: LayerStatistics) throws -> UnitScores {
        switch try named(name).reads {
        case .weights(let scorer): return scorer.scores(layer: layer, index: index)
        case .statistics(let scorer): return scorer.scores(layer: layer, index: index, statistics: statistics)
        case .gradients: throw PruningError("\(name) scores from gradients of the whole model")
        }
    }
}
