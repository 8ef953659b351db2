import Runtime

/// The units of one layer that survive pruning, as indices into the layer being pruned,
/// ascending (the kept rows and columns keep their original order).
public struct LayerPlan: Sendable, Equatable {
    public var keptHeads: [Int]
    public var keptChannels: [Int]

    public init(keptHeads: [Int], keptChannels: [Int]) {
        self.keptHeads = keptHeads.sorted()
        self.keptChannels = keptChannels.sorted()
    }

    /// All but the given heads and channels.
    public init(layer: DecoderLayer, removingHeads heads: Set<Int>, channels: Set<Int>) {
        self.init(keptHeads: (0..<layer.queryHeads).filter { !heads.contains($0) },
                  keptChannels: (0..<layer.ffnWidth).filter { !channels.contains($0) })
    }

    /// The KV heads some kept query head still reads, ascending.
    public func keptKVHeads(of layer: DecoderLayer) -> [Int] {
        Array(Set(keptHeads.map { layer.kvHeadOfQueryHead[$0] })).sorted()
    }

    /// Parameters this plan removes from `layer` (before any bias compensation).
    public func removedParameters(of layer: DecoderLayer) -> Int {
        let costs = UnitCosts(layer)
        return (layer.queryHeads - keptHeads.count) * costs.queryHead
            + (layer.kvHeads - keptKVHeads(of: layer).count) * costs.kvHead
            + (layer.ffnWidth - keptChannels.count) * costs.channel
    }
}
