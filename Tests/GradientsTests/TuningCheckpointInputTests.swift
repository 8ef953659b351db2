import Foundation
import Gradients
import TestSupport
import XCTest

/// Damaged tune checkpoints that once crashed `TuningCheckpoint.read` (a count that overflowed,
/// a missing best loss, a short loss-curve point, a values file outside the directory): each is
/// now an error naming the checkpoint.
final class TuningCheckpointInputTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("checkpoint")
    }

    /// A checkpoint of the default options with `changes` applied to a whole one's JSON (no
    /// adapters, 0 parameters, an empty values file).
    func read(_ changes: [String: Any]) throws -> String {
        var metadata: [String: Any] = [
            "step": 1, "valuesFile": "values.bin", "options": [String: Any](), "rank": 8, "alpha": 16, "adapters": [Any](),
            "optimizerSteps": 1, "parameters": 0, "trainingLosses": [[1, 2.5]], "heldOutLosses": [[Any]](),
        ]
        metadata.merge(changes) { $1 }
        try JSONSerialization.data(withJSONObject: metadata).write(to: folder.appendingPathComponent(TuningCheckpoint.metadataFile))
        try Data().write(to: folder.appendingPathComponent("values.bin"))
        do {
            _ = try TuningCheckpoint.read(from: folder, options: TuningOptions())
            return "read"
        } catch {
            return "\(error)"
        }
    }

    func testAWholeCheckpointReads() throws {
        XCTAssertEqual(try read([:]), "read")
    }

    func testAParameterCountWhoseByteCountOverflows() throws {
        XCTAssertTrue(try read(["parameters": 2305843009213693952]).contains("values.bin: 0 bytes, expected 3 arrays of 2305843009213693952"))
    }

    func testANegativeParameterCount() throws {
        XCTAssertTrue(try read(["parameters": -4]).contains("values.bin: 0 bytes"))
    }

    func testABestStepWithoutItsLoss() throws {
        XCTAssertTrue(try read(["bestStep": 1]).contains("bestStep and bestLoss must be given together"))
    }

    func testALossCurvePointThatIsNotAStepAndALoss() throws {
        for curve in [[[1.0]], [[1.5, 2.0]], [[1e300, 2.0]], [[-1.0, 2.0]]] {
            XCTAssertTrue(try read(["trainingLosses": curve]).contains("is not [step, loss]"), "\(curve)")
        }
    }

    func testAValuesFileOutsideTheDirectory() throws {
        XCTAssertTrue(try read(["valuesFile": "../values.bin"]).contains("is not a file name"))
    }

    func testARankOtherThanTheOptions() throws {
        XCTAssertTrue(try read(["rank": 0]).contains("rank 0 and alpha 16.0 differ"))
    }
}
