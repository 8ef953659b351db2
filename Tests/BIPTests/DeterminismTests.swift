import BIP
import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// Same seed, same result, bit for bit: the kept heads and channels and every weight of the
/// pruned model; a different seed gives a different random selection.
final class DeterminismTests: XCTestCase {
    /// Every parameter of the model as bit patterns, layer by layer (norms, projections, biases).
    static func assertBitIdentical(_ a: LlamaModel, _ b: LlamaModel, _ what: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }
        func same(_ x: Linear, _ y: Linear) -> Bool {
            x.outFeatures == y.outFeatures && x.inFeatures == y.inFeatures && bits(x.weight.floats) == bits(y.weight.floats)
                && x.bias.map(bits) == y.bias.map(bits)
        }
        XCTAssertEqual(a.layers.count, b.layers.count, what, file: file, line: line)
        XCTAssertTrue(bits(a.tokenEmbedding) == bits(b.tokenEmbedding) && bits(a.outputNorm) == bits(b.outputNorm)
                      && a.lmHead.map(bits) == b.lmHead.map(bits), "\(what): embeddings / head", file: file, line: line)
        for (l, (x, y)) in zip(a.layers, b.layers).enumerated() {
            XCTAssertEqual(x.kvHeadOfQueryHead, y.kvHeadOfQueryHead, "\(what): layer \(l) KV map", file: file, line: line)
            XCTAssertTrue(same(x.qkv, y.qkv) && same(x.output, y.output) && same(x.gateUp, y.gateUp) && same(x.down, y.down)
                          && bits(x.attentionNorm) == bits(y.attentionNorm) && bits(x.ffnNorm) == bits(y.ffnNorm),
                          "\(what): layer \(l) weights differ", file: file, line: line)
        }
    }

    func testRandomPruningIsReproducibleAndSeedDependent() throws {
        let model = try TinyModel.loaded().model
        func prune(seed: UInt64) throws -> PruningOutcome {
            try Pruner.prune(model, PruningRequest(method: try ImportanceMethods.named("random", seed: seed), sparsity: 0.2),
                             calibration: nil)
        }
        let first = try prune(seed: 11)
        let second = try prune(seed: 11)
        XCTAssertEqual(first.plans, second.plans)
        XCTAssertEqual(first.scores, second.scores)
        Self.assertBitIdentical(first.model, second.model, "random, seed 11 twice")

        let other = try prune(seed: 12)
        XCTAssertEqual(Set(first.plans.keys), Set(other.plans.keys))
        let differing = first.plans.keys.filter { first.plans[$0] != other.plans[$0] }
        XCTAssertEqual(differing.count, first.plans.count, "every pruned layer selects differently under another seed")
        XCTAssertTrue(first.plans.keys.contains { first.plans[$0]!.keptHeads != other.plans[$0]!.keptHeads }, "some layer keeps other heads")
        // The same amount is removed either way (uniform allocation depends on counts, not on which units).
        XCTAssertEqual(first.after.total, other.after.total)
    }

    func testBIPWithASeededC4DrawIsReproducible() throws {
        let loaded = try TinyModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        func prune(seed: UInt64) throws -> (CalibrationSet, PruningOutcome) {
            let calibration = try CalibrationSet.draw(.c4(sequences: 4, tokens: 32), seed: seed, tokenizer: loaded.tokenizer, data: data)
            return (calibration, try Pruner.prune(loaded.model, PruningRequest(method: try ImportanceMethods.named("bip", seed: seed), sparsity: 0.2),
                                                  calibration: calibration.sequences))
        }
        let (calibrationA, a) = try prune(seed: 3)
        let (calibrationB, b) = try prune(seed: 3)
        XCTAssertEqual(calibrationA.sequences, calibrationB.sequences)
        XCTAssertEqual(calibrationA.origins, calibrationB.origins)
        XCTAssertEqual(a.plans, b.plans)
        for l in a.scores.keys {
            XCTAssertEqual(a.scores[l]!.heads.map(\.bitPattern), b.scores[l]!.heads.map(\.bitPattern), "layer \(l) head scores")
            XCTAssertEqual(a.scores[l]!.channels.map(\.bitPattern), b.scores[l]!.channels.map(\.bitPattern), "layer \(l) channel scores")
        }
        Self.assertBitIdentical(a.model, b.model, "bip, c4:4x32 seed 3 twice")

        // Another seed draws other documents.
        let other = try CalibrationSet.draw(.c4(sequences: 4, tokens: 32), seed: 4, tokenizer: loaded.tokenizer, data: data)
        XCTAssertNotEqual(other.origins, calibrationA.origins)
    }
}
