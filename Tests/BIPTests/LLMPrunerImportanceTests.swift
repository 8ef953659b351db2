import BIP
import Foundation
import Gradients
import Runtime
import TestSupport
import XCTest

/// LLM-Pruner's scores on a small random model against the same formulas applied, written out
/// plainly here, to central-difference gradients of a Float64 reference loss: within 1e-3 of the
/// largest score of each kind.
final class LLMPrunerImportanceTests: XCTestCase {
    static let calibration = [[3, 1, 4, 1, 5, 9, 2, 6, 5], [2, 7, 1, 8, 2, 8], [1, 4, 1, 4, 2, 1, 3]]

    /// Per unit: Σ over members of Σ|S| (element) or |Σ S| (vector), S the salience of each weight.
    static func expectedScores(layer: DecoderLayer, salience: [Projection: [Double]], vector: Bool) -> UnitScores {
        let d = layer.hiddenSize, hd = layer.headDim, q = layer.qWidth, f = layer.ffnWidth
        func row(_ s: [Double], _ r: Int, width: Int) -> Double {
            let part = s[(r * width)..<((r + 1) * width)]
            return vector ? abs(part.reduce(0, +)) : part.reduce(0) { $0 + abs($1) }
        }
        func column(_ s: [Double], _ c: Int, rows: Int, width: Int) -> Double {
            let part = (0..<rows).map { s[$0 * width + c] }
            return vector ? abs(part.reduce(0, +)) : part.reduce(0) { $0 + abs($1) }
        }
        let heads = (0..<layer.queryHeads).map { h in
            ((h * hd)..<((h + 1) * hd)).reduce(0.0) {
                $0 + row(salience[.qkv]!, $1, width: d) + column(salience[.output]!, $1, rows: d, width: q)
            }
        }
        let channels = (0..<f).map { m in
            row(salience[.gateUp]!, m, width: d) + row(salience[.gateUp]!, f + m, width: d)
                + column(salience[.down]!, m, rows: d, width: f)
        }
        return UnitScores(heads: heads, channels: channels)
    }

    func testScoresAreTheTaylorFormulasOnFiniteDifferenceGradients() throws {
        let model = ReferenceModel.tinyModel(layers: 2, kvHeadOf: [0, 1, 1], bias: true, seed: 21)
        let reference = ReferenceModel(model)
        let batch = Self.calibration.map(TrainingSequence.languageModeling)
        for variant in LLMPrunerImportance.Variant.allCases {
            let scores = try LLMPrunerImportance(variant: variant)
                .scores(model: model, calibration: Self.calibration, layers: 1..<2, progress: { _ in })
            let layer = model.layers[1]
            var salience: [Projection: [Double]] = [:]
            for projection in Projection.allCases {
                let w = reference[layer: 1, projection: projection]
                let g = reference.numericGradient(batch, layer: 1, projection)
                var s = zip(w, g).map(*)
                if variant == .element2 {
                    // Fisher diagonal: the mean over samples of each sample's squared gradient.
                    let perSample = batch.map { reference.numericGradient([$0], layer: 1, projection) }
                    for i in s.indices {
                        let fisher = perSample.reduce(0) { $0 + $1[i] * $1[i] } / Double(batch.count)
                        s[i] -= 0.5 * w[i] * fisher * w[i]
                    }
                }
                salience[projection] = s
            }
            let expected = Self.expectedScores(layer: layer, salience: salience, vector: variant == .vector)
            XCTAssertEqual(Array(scores.keys), [1])
            let actual = try XCTUnwrap(scores[1])
            for (kind, e, a) in [("heads", expected.heads, actual.heads), ("channels", expected.channels, actual.channels)] {
                XCTAssertEqual(a.count, e.count)
                let largest = e.map(abs).max()!
                XCTAssertGreaterThan(largest, 1e-4)
                for i in e.indices { XCTAssertEqual(a[i], e[i], accuracy: 1e-3 * largest, "\(variant) \(kind)[\(i)]") }
            }
        }
    }

    func testTheVariantsDiffer() throws {
        // The Fisher term of element2 and the signed sum of vector change the scores.
        let model = ReferenceModel.tinyModel(seed: 4)
        let scores = try LLMPrunerImportance.Variant.allCases.map { variant in
            try XCTUnwrap(LLMPrunerImportance(variant: variant).scores(model: model, calibration: Self.calibration,
                                                                       layers: 0..<2, progress: { _ in })[0])
        }
        XCTAssertNotEqual(scores[0], scores[1])
        XCTAssertNotEqual(scores[0], scores[2])
    }
}
