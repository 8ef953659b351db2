@testable import BIP
import Foundation
import Runtime
import TestSupport
import XCTest

/// `exactness_layer10` of `prune-scores.json`: removing a query head or an FFN channel of layer 10
/// of the default model changes the block output by what the fixture measured, and by the scores.
final class Layer10ExactnessTests: XCTestCase {
    /// The part of `exactness_layer10` this test reads (the shared `PruneScoresFixture` reads only the channels).
    struct ExactnessHeads: Decodable {
        struct Head: Decodable {
            let head: Int
            let measured_block_output_l1_change: Double
            let bip: Double, local: Double, gate: Double, norm: Double
            enum CodingKeys: String, CodingKey {
                case head, measured_block_output_l1_change, bip
                case local = "bip-local", gate = "bip-gate", norm = "bip-norm"
            }
            func score(_ variant: BIPImportance.Variant) -> Double {
                switch variant {
                case .standard: return bip
                case .local: return local
                case .gate: return gate
                case .norm: return norm
                }
            }
        }
        struct Exactness: Decodable {
            let layer: Int
            let heads: [Head]
        }
        let exactness_layer10: Exactness
    }

    func testLayer10MeasuredChangesMatchTheFixture() throws {
        let model = try TestModel.loaded().model
        let ids = try TestInputs.fixture().calibration.ids
        let reference = try JSONDecoder().decode(
            ExactnessHeads.self, from: Data(contentsOf: TestModel.sharedFile("fixtures/smollm2/prune-scores.json"))).exactness_layer10
        XCTAssertEqual(reference.heads.count, 9)
        let l = reference.layer
        var lines: [String] = []
        let results = try HeadBoundSurvey.run(model: model, sequences: ids, layers: l..<(l + 1)) { lines.append($0) }
        XCTAssertEqual(results.count, 1)
        let layer = results[0]
        XCTAssertEqual(layer.index, l)
        XCTAssertEqual(lines.count, l + 1, "one progress line per layer run")
        for entry in reference.heads {
            let h = entry.head, expected = entry.measured_block_output_l1_change
            XCTAssertEqual(layer.measured[h], expected, accuracy: 1e-3 * expected, "head \(h): measured change")
            for variant in HeadBoundSurvey.variants {
                let score = entry.score(variant)
                XCTAssertEqual(layer.scores[variant]![h], score, accuracy: 1e-4 * score, "head \(h): \(variant.rawValue) score")
            }
        }
        // The fixture: no variant falls below the measured change in layer 10.
        for variant in HeadBoundSurvey.variants {
            let agreement = HeadBoundSurvey.Agreement(scores: layer.scores[variant]!, measured: layer.measured)
            XCTAssertEqual(agreement.violations, 0, variant.rawValue)
            XCTAssertEqual(agreement.pairs, 36)
            XCTAssertGreaterThanOrEqual(agreement.concordantPairs, 33, variant.rawValue)
        }
    }

    /// exactness_layer10: removing FFN channel m of layer 10 changes the block output's l1 norm
    /// (mean over the calibration tokens) by exactly its score; the block is recomputed.
    func testRemovingAChannelChangesTheBlockOutputByItsScore() throws {
        let model = try TestModel.loaded().model, fixture = try TestInputs.fixture()
        let l = fixture.exactness_layer10.layer
        let runner = LayerwiseRunner(model: model, sequences: fixture.calibration.ids)
        for i in 0..<l { runner.advance(through: model.layers[i]) }
        let stats = runner.statistics(of: model.layers[l], index: l)
        let scores = BIPImportance(variant: .standard).scores(layer: model.layers[l], index: l, statistics: stats)
        let dense = runner.output(of: model.layers[l])
        for reference in fixture.exactness_layer10.ffn_channels {
            let m = reference.channel
            let layer = StructuralRemoval.apply(LayerPlan(layer: model.layers[l], removingHeads: [], channels: [m]), to: model.layers[l])
            let pruned = runner.output(of: layer)
            let measured = zip(dense, pruned).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(runner.tokenCount)
            XCTAssertEqual(scores.channels[m], reference.sF, accuracy: 1e-4 * reference.sF, "channel \(m): score vs the fixture")
            XCTAssertEqual(measured, reference.measured_block_output_l1_change, accuracy: 1e-3 * reference.sF, "channel \(m): measured change vs the fixture")
            XCTAssertEqual(measured, scores.channels[m], accuracy: 1e-3 * scores.channels[m], "channel \(m): measured change vs its score")
        }
    }
}
