import Foundation
import Runtime

/// Uniform allocation: every pruned layer loses the same fraction r of its projection parameters,
/// `r = S * total / Σ projections over the range`. Per layer the `round(r * H)` lowest-scoring
/// query heads go (a KV head goes with its last query head), then the lowest-scoring channels
/// fill the rest of the layer's budget `r * projections`. A layer keeps at least one head and
/// one channel.
public struct UniformAllocation: Sendable {
    public let ratio: Double

    public init(ratio: Double) { self.ratio = ratio }

    /// The ratio that removes `target` parameters from the layers in `range`.
    public init(model: LlamaModel, range: Range<Int>, removing target: Double) {
        let prunable = range.reduce(0) { $0 + UnitCosts.projections(model.layers[$1]) }
        ratio = prunable == 0 ? 0 : target / Double(prunable)
    }

    public func plan(layer: DecoderLayer, scores: UnitScores) -> LayerPlan {
        let costs = UnitCosts(layer)
        let headCount = min(max(0, layer.queryHeads - 1), Int((ratio * Double(layer.queryHeads)).rounded()))
        let heads = Set(Self.lowest(scores.heads, count: headCount))
        let headsOnly = LayerPlan(layer: layer, removingHeads: heads, channels: [])
        let budget = ratio * Double(UnitCosts.projections(layer)) - Double(headsOnly.removedParameters(of: layer))
        let channelCount = min(max(0, layer.ffnWidth - 1), max(0, Int((budget / Double(costs.channel)).rounded())))
        return LayerPlan(layer: layer, removingHeads: heads, channels: Set(Self.lowest(scores.channels, count: channelCount)))
    }

    /// Indices of the `count` lowest scores (ties: lower index first).
    static func lowest(_ scores: [Double], count: Int) -> [Int] {
        Array(scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(count))
    }
}
