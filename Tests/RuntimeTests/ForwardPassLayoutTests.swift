import Kernels
@testable import Runtime
@testable import TestSupport
import XCTest

/// Where a forward call puts its sequences' rows in its products: from a phase that depends on the
/// sequence alone (its first position and a hash of its length).
final class ForwardPassLayoutTests: XCTestCase {
    /// The hash is splitmix64's finalizer of the length, its top 32 bits (values worked out apart
    /// from bip), so it is the same in every process and on every machine.
    func testAPhaseIsTheSplitmixHashOfTheLength() {
        XCTAssertEqual(ForwardPass.phase(ofLength: 0), 3_793_791_033)
        XCTAssertEqual(ForwardPass.phase(ofLength: 3), 487_265_508)
    }

    /// Each sequence of a call starts at an index congruent to its slot's length plus its length's
    /// hash, modulo the period.
    func testEachSequenceStartsAtItsPhase() throws {
        let model = try TinyModel.loaded().model
        let forward = ForwardPass(model: model), cache = KVCache(model: model, slots: 3, capacity: 64)
        _ = forward([SequenceInput(slot: 1, tokens: [4, 5, 6, 7, 8])], cache: cache)
        let batch = [SequenceInput(slot: 0, tokens: [1, 2, 3]), SequenceInput(slot: 1, tokens: [9, 10]),
                     SequenceInput(slot: 2, tokens: Array(repeating: 11, count: 30))]
        _ = forward(batch, cache: cache)
        let layout = forward.layout
        XCTAssertEqual(layout.lengths, [3, 2, 30])
        for (i, (first, tokens)) in zip([0, 5, 0], batch.map(\.tokens)).enumerated() {
            XCTAssertEqual(layout.alignedStarts[i] % layout.period, (first + ForwardPass.phase(ofLength: tokens.count)) % layout.period, "sequence \(i)")
        }
    }
}
