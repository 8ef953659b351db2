@testable import BIP
import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// Physical removal against masking, and writing and reading a pruned model, on the tiny model.
final class RemovalTests: XCTestCase {
    /// Zeroing a head's o_proj columns / a channel's down_proj column in the dense model gives the
    /// same logits as removing the units physically.
    func testMaskingAndRemovingGiveTheSameLogits() throws {
        let loaded = try TinyModel.loaded(), model = loaded.model
        let plans: [Int: LayerPlan] = [
            1: LayerPlan(layer: model.layers[1], removingHeads: [0, 2, 3], channels: [0, 3, 70, 127]),
            3: LayerPlan(layer: model.layers[3], removingHeads: [2], channels: Set(stride(from: 1, to: 128, by: 3))),
        ]
        var masked = model
        for (l, plan) in plans {
            let hd = model.layers[l].headDim, d = model.layers[l].hiddenSize
            let q = model.layers[l].qWidth, f = model.layers[l].ffnWidth
            for h in Set(0..<model.layers[l].queryHeads).subtracting(plan.keptHeads) {
                for row in 0..<d { for j in (h * hd)..<((h + 1) * hd) { masked.layers[l].output.weight[row * q + j] = 0 } }
            }
            for m in Set(0..<f).subtracting(plan.keptChannels) {
                for row in 0..<d { masked.layers[l].down.weight[row * f + m] = 0 }
            }
        }
        let removed = StructuralRemoval.apply(plans, to: model)
        XCTAssertEqual(removed.layers[1].kvHeads, 1)
        XCTAssertEqual(removed.layers[1].kvHeadOfQueryHead, [0])
        XCTAssertEqual(removed.layers[3].kvHeadOfQueryHead, [0, 0, 1])
        let tokens = Array(loaded.tokenizer.encode("The quick brown fox jumps over the lazy dog, twice.", parseSpecial: false).prefix(24))
        let difference = TestInputs.maxAbsDifference(TestInputs.logits(masked, tokens), TestInputs.logits(removed, tokens))
        XCTAssertLessThanOrEqual(difference, 1e-4)
    }

    /// A FLAP-pruned model (global allocation, bias compensation) written and read back gives
    /// identical logits, shapes, biases and tokenizer.
    func testWriteAndLoadRoundTrip() throws {
        let loaded = try TinyModel.loaded()
        let calibration = try CalibrationSet.draw(.c4(sequences: 4, tokens: 64), seed: 0, tokenizer: loaded.tokenizer,
                                                  data: DataDirectory(url: try TestModel.dataDirectory())).sequences
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: FLAPImportance(), sparsity: 0.1), calibration: calibration)
        XCTAssertEqual(outcome.setting, PruningSetting(allocation: .global, biasCompensation: true, statistics: .oneShot))
        XCTAssertTrue(outcome.model.layers.contains { $0.down.bias != nil }, "FLAP compensates the removed channels with a bias")
        let directory = try temporaryFolder("roundtrip")
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
        // The directory's tokenizer is its tokenizer.json, and gives the model's own ids.
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path))
        let fromJSON = try TokenizerLoader.load(path: directory.appendingPathComponent("tokenizer.json").path)
        XCTAssertTrue(fromJSON is ByteLevelBPETokenizer && back.tokenizer is ByteLevelBPETokenizer)
        XCTAssertEqual(back.tokenizer.bosID, 1)
        XCTAssertEqual(back.tokenizer.eosID, 2)
        for text in ["  the theory\tof 1234\n\nthings", "naïve café 日本語 😀", "<|im_start|>user<|im_end|>"] {
            for special in [false, true] {
                let ids = loaded.tokenizer.encode(text, parseSpecial: special)
                XCTAssertEqual(back.tokenizer.encode(text, parseSpecial: special), ids, text)
                XCTAssertEqual(fromJSON.encode(text, parseSpecial: special), ids, text)
            }
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
        XCTAssertNil(older.model.layers[2].qkv.bias)
    }
}
