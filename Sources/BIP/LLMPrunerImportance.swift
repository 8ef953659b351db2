import Foundation
import Gradients
import Runtime

/// LLM-Pruner's first-order Taylor importance (Ma et al. 2023): from the gradient `G = ∂L/∂W` of
/// one mean next-token loss over the calibration batch (their 10 sequences of 64 tokens), each
/// weight's salience `S = W · G`, and for element2 `S = W · G - ½ W · F · W` with `F` the
/// diagonal Fisher estimate `mean over samples of (∂L_s/∂W)²`. A member row or column scores
/// `Σ |S|` (element1, element2) or `|Σ S|` (vector); a unit scores the sum over its members: a
/// query head its q_proj rows and o_proj columns, an FFN channel its gate and up rows and down column.
///
/// The scores need the gradients of the whole model, so the pruner asks for every layer's scores
/// at once, before any layer is pruned.
public struct LLMPrunerImportance: ImportanceMethod, GradientScorer {
    /// How a member row or column scores (see above): `Σ |S|` with the first-order `S`
    /// (`element1`) or with the Fisher term (`element2`), or `|Σ S|` (`vector`).
    public enum Variant: String, Sendable, CaseIterable {
        case element1, element2, vector
    }

    public let variant: Variant

    public init(variant: Variant) { self.variant = variant }

    public var name: String { "llm-pruner-\(variant.rawValue)" }
    /// LLM-Pruner's calibration size (10 × 64); their BookCorpus is not available, C4 stands in.
    public var reads: ImportanceInput { .gradients(self, calibration: .c4(sequences: 10, tokens: 64)) }
    public var paperSetting: PruningSetting { .standard }

    public func scores(model: LlamaModel, calibration: [[Int]], layers: Range<Int>,
                       progress: (String) -> Void) throws -> [Int: UnitScores] {
        let batch = calibration.map(TrainingSequence.languageModeling)
        let targets = batch.reduce(0) { $0 + $1.targetCount }
        guard targets > 0 else { throw PruningError("\(name) needs calibration sequences of at least 2 tokens") }
        let pass = TrainingPass(model: model)
        var fisher: [Int: LayerWeightGradients] = [:]
        if variant == .element2 {
            // LLM-Pruner accumulates each sample's squared gradient divided by the sample count.
            for l in layers { fisher[l] = LayerWeightGradients(zerosLike: model.layers[l]) }
            let inverse = 1 / Float(batch.count)
            for (s, sequence) in batch.enumerated() {
                progress("\(name): per-sample gradient \(s + 1)/\(batch.count) for the Fisher term")
                _ = pass.gradients([sequence], target: .weights, scale: 1 / Float(max(1, sequence.targetCount))) { l, g in
                    guard layers.contains(l) else { return }
                    for projection in Projection.allCases {
                        let gs = g[projection]
                        fisher[l]!.withGradient(projection) { acc in
                            for i in acc.indices { acc[i] += gs[i] * gs[i] * inverse }
                        }
                    }
                }
            }
        }
        progress("\(name): gradient of the mean loss over \(batch.count) calibration sequences (\(targets) predicted tokens)")
        var scores: [Int: UnitScores] = [:]
        // Each layer is scored as soon as its gradient is complete; only one layer's gradient is held.
        _ = pass.gradients(batch, target: .weights, scale: 1 / Float(targets)) { l, g in
            guard layers.contains(l) else { return }
            scores[l] = layerScores(model.layers[l], g, fisher: fisher[l])
            fisher[l] = nil
        }
        return scores
    }

    /// The unit scores of one layer from its weight gradients (and Fisher diagonal for element2).
    func layerScores(_ layer: DecoderLayer, _ g: LayerWeightGradients, fisher: LayerWeightGradients?) -> UnitScores {
        let hd = layer.headDim, q = layer.qWidth, f = layer.ffnWidth, d = layer.hiddenSize
        let qkv = rowScores(layer.qkv.weight, g.qkv, fisher?.qkv, rows: 0..<q)
        let output = columnScores(layer.output.weight, g.output, fisher?.output)
        let gateUp = rowScores(layer.gateUp.weight, g.gateUp, fisher?.gateUp, rows: 0..<(2 * f))
        let down = columnScores(layer.down.weight, g.down, fisher?.down)
        precondition(output.count == q && down.count == f && layer.down.outFeatures == d)
        let heads = (0..<layer.queryHeads).map { h in
            ((h * hd)..<((h + 1) * hd)).reduce(0.0) { $0 + qkv[$1] + output[$1] }
        }
        let channels = (0..<f).map { gateUp[$0] + gateUp[f + $0] + down[$0] }
        return UnitScores(heads: heads, channels: channels)
    }

    /// Salience of element i: `W G` (element1, vector) or `W G - ½ W F W` (element2).
    private func salience(_ w: Float, _ g: Float, _ fisher: [Float]?, _ i: Int) -> Double {
        let first = Double(w) * Double(g)
        guard let fisher else { return first }
        return first - 0.5 * Double(w) * Double(fisher[i]) * Double(w)
    }

    /// Per row in `rows`: `Σ_j |S|` or `|Σ_j S|`.
    private func rowScores(_ weight: WeightMatrix, _ g: [Float], _ fisher: [Float]?, rows: Range<Int>) -> [Double] {
        let columns = weight.columns
        return weight.withFloats { w in
            rows.map { r in
                var total = 0.0
                for c in 0..<columns {
                    let s = salience(w[r * columns + c], g[r * columns + c], fisher, r * columns + c)
                    total += variant == .vector ? s : abs(s)
                }
                return abs(total)
            }
        }
    }

    /// Per column: `Σ_i |S|` or `|Σ_i S|`.
    private func columnScores(_ weight: WeightMatrix, _ g: [Float], _ fisher: [Float]?) -> [Double] {
        let columns = weight.columns
        var totals = [Double](repeating: 0, count: columns)
        weight.withFloats { w in
            for r in 0..<weight.rows {
                for c in 0..<columns {
                    let s = salience(w[r * columns + c], g[r * columns + c], fisher, r * columns + c)
                    totals[c] += variant == .vector ? s : abs(s)
                }
            }
        }
        return totals.map(abs)
    }
}
