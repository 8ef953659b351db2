@testable import BIP
import Foundation
import Runtime
import TestSupport
import XCTest

/// Physical removal against masking, the exactness of the FFN channel score, and writing and
/// reading a pruned model.
final class RemovalTests: XCTestCase {
    /// Zeroing a head's o_proj columns / a channel's down_proj column in the dense model gives the
    /// same logits as removing the units physically.
    func testMaskingAndRemovingGiveTheSameLogits() throws {
        let model = try TestModel.loaded().model
        let plans: [Int: LayerPlan] = [
            5: LayerPlan(layer: model.layers[5], removingHeads: [0, 4, 6, 7, 8], channels: [0, 3, 700, 1535]),
            20: LayerPlan(layer: model.layers[20], removingHeads: [2], channels: Set(stride(from: 1, to: 1536, by: 3))),
        ]
        var masked = model
        for (l, plan) in plans {
            let hd = model.layers[l].headDim, d = model.layers[l].hiddenSize
            for h in Set(0..<9).subtracting(plan.keptHeads) {
                for row in 0..<d { for j in (h * hd)..<((h + 1) * hd) { masked.layers[l].output.weight[row * 576 + j] = 0 } }
            }
            for m in Set(0..<1536).subtracting(plan.keptChannels) {
                for row in 0..<d { masked.layers[l].down.weight[row * 1536 + m] = 0 }
            }
        }
        let removed = StructuralRemoval.apply(plans, to: model)
        XCTAssertEqual(removed.layers[5].kvHeads, 2)
        XCTAssertEqual(removed.layers[5].kvHeadOfQueryHead, [0, 0, 1, 1])
        let tokens = try TestInputs.fixture().calibration.ids[0].prefix(24).map { $0 }
        let difference = TestInputs.maxAbsDifference(TestInputs.logits(masked, tokens), TestInputs.logits(removed, tokens))
        XCTAssertLessThanOrEqual(difference, 1e-4)
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

    /// A FLAP-pruned model (global allocation, bias compensation) written and read back gives
    /// identical logits, shapes, biases and tokenizer.
    func testWriteAndLoadRoundTrip() throws {
        let loaded = try TestModel.loaded()
        let calibration = try TestInputs.fixture().calibration.ids
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: FLAPImportance(), sparsity: 0.1), calibration: calibration)
        XCTAssertEqual(outcome.allocation, .global)
        XCTAssertNotNil(outcome.model.layers[10].down.bias)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bip-roundtrip-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let provenance = PruningProvenance(
            method: "flap", sparsityRequested: 0.1, sparsityReached: outcome.sparsity, allocation: "global",
            layers: outcome.layers, calibration: "fixture", calibrationIsTestData: false, seed: 0,
            sourceModel: loaded.path, sourceSHA256: "not computed in this test",
            kept: outcome.plans.mapValues(PruningProvenance.KeptUnits.init))
        try ModelDirectory.write(outcome.model, to: directory, provenance: provenance,
                                 tokenizerSource: try loaded.tokenizerSource())
        let back = try LoadedModel.load(directory.path)
        XCTAssertEqual(back.model.config, outcome.model.config)
        XCTAssertEqual(back.model.parameterCount, outcome.model.parameterCount)
        for (a, b) in zip(back.model.layers, outcome.model.layers) {
            XCTAssertEqual(a.kvHeadOfQueryHead, b.kvHeadOfQueryHead)
            XCTAssertEqual(a.ffnWidth, b.ffnWidth)
            XCTAssertEqual(a.output.bias, b.output.bias)
            XCTAssertEqual(a.down.bias, b.down.bias)
        }
        let text = "The 3 quick brown foxes jumped over 12 lazy dogs."
        XCTAssertEqual(back.tokenizer.encode(text, parseSpecial: false), loaded.tokenizer.encode(text, parseSpecial: false))
        // The directory's tokenizer is its tokenizer.json, and gives the reference ids.
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path))
        let fromJSON = try TokenizerLoader.load(path: directory.appendingPathComponent("tokenizer.json").path)
        XCTAssertTrue(fromJSON is ByteLevelBPETokenizer && back.tokenizer is ByteLevelBPETokenizer)
        XCTAssertEqual(back.tokenizer.bosID, 1)
        XCTAssertEqual(back.tokenizer.eosID, 2)
        for testCase in try TestInputs.tokenizerCases() {
            XCTAssertEqual(back.tokenizer.encode(testCase.text, parseSpecial: testCase.special), testCase.ids, testCase.text)
            XCTAssertEqual(fromJSON.encode(testCase.text, parseSpecial: testCase.special), testCase.ids, testCase.text)
        }
        let tokens = back.tokenizer.encode(text, parseSpecial: false)
        XCTAssertEqual(TestInputs.maxAbsDifference(TestInputs.logits(back.model, tokens), TestInputs.logits(outcome.model, tokens)), 0)

        // Directories written by earlier bip set attention_bias / mlp_bias whenever any layer had a
        // bias; the per-layer list of the bip section decides, so they still load.
        let configURL = directory.appendingPathComponent("config.json")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        config["attention_bias"] = true
        config["mlp_bias"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let older = try LoadedModel.load(directory.path)
        XCTAssertEqual(older.model.parameterCount, outcome.model.parameterCount)
        XCTAssertNil(older.model.layers[10].qkv.bias)
    }
}
