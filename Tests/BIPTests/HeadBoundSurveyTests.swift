@testable import BIP
import Foundation
import Runtime
import TestSupport
import XCTest

/// `bip bounds`' arithmetic, and zeroing a head against removing it (on the tiny model); the
/// survey against the fixture is in `RealModelTests`.
final class HeadBoundSurveyTests: XCTestCase {
    /// Zeroing a head's o_proj columns is the same as removing the head physically.
    func testZeroingAHeadEqualsRemovingIt() throws {
        let loaded = try TinyModel.loaded(), model = loaded.model
        let ids = [Array(loaded.tokenizer.encode("The quick brown fox jumps over the lazy dog.", parseSpecial: false).prefix(16))]
        let runner = LayerwiseRunner(model: model, sequences: ids)
        let layer = model.layers[0]
        let masked = runner.output(of: HeadBoundSurvey.zeroingHead(2, of: layer))
        let removed = runner.output(of: StructuralRemoval.apply(LayerPlan(layer: layer, removingHeads: [2], channels: []), to: layer))
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
