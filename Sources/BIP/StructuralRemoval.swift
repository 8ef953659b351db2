import Runtime

/// Physical removal: a new `DecoderLayer` with only the kept rows and columns, in their
/// original order. Removed query heads lose their q_proj rows and o_proj columns; a KV head no
/// kept query head reads loses its k_proj / v_proj rows and the KV map is renumbered; removed
/// FFN channels lose their gate_proj / up_proj rows and down_proj column.
///
/// With bias compensation (FLAP), the removed columns' mean contribution
/// `W[:, P] · mean_t(X_P)` is added to the bias of o_proj / down_proj.
public enum StructuralRemoval {
    public static func apply(_ plan: LayerPlan, to layer: DecoderLayer, compensating statistics: LayerStatistics? = nil) -> DecoderLayer {
        let hd = layer.headDim
        let keptKV = plan.keptKVHeads(of: layer)
        let kvIndex = Dictionary(uniqueKeysWithValues: keptKV.enumerated().map { ($0.element, $0.offset) })
        let qRows = plan.keptHeads.flatMap { ($0 * hd)..<(($0 + 1) * hd) }
        let kvRows = keptKV.flatMap { ($0 * hd)..<(($0 + 1) * hd) }

        var output = layer.output.selectingColumns(qRows)
        var down = layer.down.selectingColumns(plan.keptChannels)
        if let stats = statistics {
            let keptQ = Set(qRows), keptChannels = Set(plan.keptChannels)
            output = output.addingBias(layer.output.contribution(
                ofColumns: (0..<layer.qWidth).filter { !keptQ.contains($0) },
                means: ChannelMoments.mean(stats.aSum, tokens: stats.tokens)))
            down = down.addingBias(layer.down.contribution(
                ofColumns: (0..<layer.ffnWidth).filter { !keptChannels.contains($0) },
                means: ChannelMoments.mean(stats.zSum, tokens: stats.tokens)))
        }
        return DecoderLayer(
            attentionNorm: layer.attentionNorm,
            q: layer.q.selectingRows(qRows), k: layer.k.selectingRows(kvRows), v: layer.v.selectingRows(kvRows),
            output: output, ffnNorm: layer.ffnNorm,
            gate: layer.gate.selectingRows(plan.keptChannels), up: layer.up.selectingRows(plan.keptChannels), down: down,
            kvHeadOfQueryHead: plan.keptHeads.map { kvIndex[layer.kvHeadOfQueryHead[$0]]! }, headDim: hd)
    }

    /// The model with `plans[l]` applied to every planned layer (the others unchanged).
    public static func apply(_ plans: [Int: LayerPlan], to model: LlamaModel,
                             compensating statistics: [Int: LayerStatistics]? = nil) -> LlamaModel {
        var pruned = model
        for (l, plan) in plans {
            pruned.layers[l] = apply(plan, to: model.layers[l], compensating: statistics?[l])
        }
        return pruned
    }
}

extension Linear {
    /// The given rows (and bias entries), in the given order.
    func selectingRows(_ rows: [Int]) -> Linear {
        Linear(weight: weight.selectingRows(rows), bias: bias.map { b in rows.map { b[$0] } })
    }

    /// The given columns, in the given order; the bias is unchanged.
    func selectingColumns(_ columns: [Int]) -> Linear {
        Linear(weight: weight.selectingColumns(columns), bias: bias)
    }

    /// `Σ_{j in columns} W[:, j] * means[j]`, in Double.
    func contribution(ofColumns columns: [Int], means: [Double]) -> [Double] {
        (0..<outFeatures).map { r in columns.reduce(0.0) { $0 + Double(weight[r * inFeatures + $1]) * means[$1] } }
    }

    /// This map with `extra` added to its bias (a zero bias is created when there is none).
    func addingBias(_ extra: [Double]) -> Linear {
        let old = bias ?? [Float](repeating: 0, count: outFeatures)
        return Linear(weight: weight, bias: zip(old, extra).map { Float(Double($0) + $1) })
    }
}
