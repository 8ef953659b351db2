import Runtime

/// Global allocation (FLAP's AL-AM): each layer's head scores and channel scores are
/// standardized (unless their `scale` says they already are, or `standardizing` is false: the
/// `global-raw` allocation, which compares the scores as the method computes them), all units of the range are sorted by score,
/// and the lowest go first, each weighted by its actual parameter cost (a KV head's cost joins
/// its last query head), up to the prefix whose removed parameters are closest to the target.
/// A layer keeps at least one head and one channel.
public enum GlobalAllocation {
    public static func plans(model: LlamaModel, scores: [Int: UnitScores], removing target: Double,
                             standardizing: Bool) -> [Int: LayerPlan] {
        struct Unit { let score: Double; let layer: Int; let isHead: Bool; let index: Int }
        var units: [Unit] = []
        for (l, s) in scores {
            let standardize = standardizing && s.scale == .raw
            let heads = standardize ? ScoreMath.standardized(s.heads) : s.heads
            let channels = standardize ? ScoreMath.standardized(s.channels) : s.channels
            units += heads.enumerated().map { Unit(score: $0.element, layer: l, isHead: true, index: $0.offset) }
            units += channels.enumerated().map { Unit(score: $0.element, layer: l, isHead: false, index: $0.offset) }
        }
        units.sort { ($0.score, $0.layer, $0.isHead ? 0 : 1, $0.index) < ($1.score, $1.layer, $1.isHead ? 0 : 1, $1.index) }

        var headsLeft: [Int: Int] = [:], channelsLeft: [Int: Int] = [:], readers: [Int: [Int: Int]] = [:]
        for l in scores.keys {
            let layer = model.layers[l]
            headsLeft[l] = layer.queryHeads
            channelsLeft[l] = layer.ffnWidth
            readers[l] = Dictionary(layer.kvHeadOfQueryHead.map { ($0, 1) }, uniquingKeysWith: +)
        }
        var removed: [Unit] = [], cumulative: [Double] = [0], total = 0.0
        for unit in units {
            let layer = model.layers[unit.layer], costs = UnitCosts(layer)
            if unit.isHead {
                guard headsLeft[unit.layer]! > 1 else { continue }
                headsLeft[unit.layer]! -= 1
                let kv = layer.kvHeadOfQueryHead[unit.index]
                readers[unit.layer]![kv]! -= 1
                total += Double(costs.queryHead + (readers[unit.layer]![kv]! == 0 ? costs.kvHead : 0))
            } else {
                guard channelsLeft[unit.layer]! > 1 else { continue }
                channelsLeft[unit.layer]! -= 1
                total += Double(costs.channel)
            }
            removed.append(unit)
            cumulative.append(total)
            if total >= target { break }
        }
        let cut = cumulative.indices.min { abs(cumulative[$0] - target) < abs(cumulative[$1] - target) }!
        var heads: [Int: Set<Int>] = [:], channels: [Int: Set<Int>] = [:]
        for unit in removed.prefix(cut) {
            if unit.isHead { heads[unit.layer, default: []].insert(unit.index) } else { channels[unit.layer, default: []].insert(unit.index) }
        }
        return Dictionary(uniqueKeysWithValues: scores.keys.map { l in
            (l, LayerPlan(layer: model.layers[l], removingHeads: heads[l] ?? [], channels: channels[l] ?? []))
        })
    }
}
