@testable import BIP
import Foundation
import Runtime
import TestSupport
import XCTest

/// `bip bounds`: the measured block-output change of removing each query head of layer 10, and
/// the bip variants' head scores, against `exactness_layer10.heads` of the reference scores
/// `fixtures/smollm2/prune-scores.json` (docs/pruning-methods.md, "How the numbers are checked").
final class HeadBoundSurveyTests: XCTestCase {
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

    /// Zeroing a head's o_proj columns is the same as removing the head physically.
    func testZeroingAHeadEqualsRemovingIt() throws {
        let model = try TestModel.loaded().model
        let ids = [Array(try TestInputs.fixture().calibration.ids[0].prefix(16))]
        let runner = LayerwiseRunner(model: model, sequences: ids)
        let layer = model.layers[0]
        let masked = runner.output(of: HeadBoundSurvey.zeroingHead(4, of: layer))
        let removed = runner.output(of: StructuralRemoval.apply(LayerPlan(layer: layer, removingHeads: [4], channels: []), to: layer))
        XCTAssertLessThanOrEqual(HeadBoundSurvey.l1Distance(masked, removed) / Double(masked.count), 1e-6)
        XCTAssertGreaterThan(HeadBoundSurvey.l1Distance(masked, runner.output(of: layer)), 0)
    }

    /// Spearman with ties, median, bound violations and ordered pairs on small hand-made inputs.
    func testAgreementArithmetic() {
        XCTAssertEqual(HeadBoundSurvey.ranks([10, 30, 20, 30]), [1, 3.5, 2, 3.5])
        XCTAssertEqual(HeadBoundSurvey.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-15)
        XCTAssertEqual(HeadBoundSurvey.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-15)
        // ranks a = 1,2,3,4 and b = 2,1,4,3: d² = 1+1+1+1 = 4, rho = 1 - 6*4/(4*15) = 0.6.
        XCTAssertEqual(HeadBoundSurvey.spearman([1, 2, 3, 4], [2, 1, 4, 3]), 0.6, accuracy: 1e-15)
        let a = HeadBoundSurvey.Agreement(scores: [2, 3, 10, 8], measured: [1, 4, 2, 4])
        XCTAssertEqual(a.violations, 1)        // head 1: measured 4 > score 3
        XCTAssertEqual(a.medianRatio, 2)       // ratios 2, 0.75, 5, 2 sorted 0.75, 2, 2, 5: (2 + 2) / 2
        // Pairs (0,1) (0,2) (0,3) ordered alike; (1,2) and (2,3) opposite; (1,3) tied in measured.
        XCTAssertEqual(a.concordantPairs, 3)
        XCTAssertEqual(a.pairs, 6)
    }
}
