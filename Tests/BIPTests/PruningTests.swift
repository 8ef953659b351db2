import BIP
import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The pipeline end to end: impossible requests, and a real prune of the default model.
final class PruningTests: XCTestCase {
    func testImpossibleRequestsSayWhatIsPossible() throws {
        let model = try TestModel.loaded().model
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: 0.7), calibration: nil)) {
            let message = String(describing: $0)
            XCTAssertTrue(message.contains("largest reachable is 0.6"), message)
        }
        XCTAssertNoThrow(try Pruner.prune(model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: 0.6), calibration: nil))
        XCTAssertThrowsError(try ImportanceMethods.named("llm-pruner")) {
            let message = String(describing: $0)
            XCTAssertTrue(message.contains("unknown method 'llm-pruner'") && message.contains("bip-norm"), message)
        }
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: BIPImportance(variant: .standard), sparsity: 0.2), calibration: [])) {
            XCTAssertTrue(String(describing: $0).contains("calibration set is empty"), String(describing: $0))
        }
        XCTAssertThrowsError(try CalibrationSource(parsing: "c4:0x128"))
        XCTAssertThrowsError(try CalibrationSource(parsing: "pile:4x4"))
        XCTAssertThrowsError(try LayerRange.parse("3..<31", layerCount: 30))
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: WandaSPImportance(), sparsity: 0.2, allocation: .global), calibration: [[1, 2]]))
    }

    /// What each method reads, how its paper prunes, and which calibration it is pruned with.
    func testEachMethodSaysWhatItReadsAndHowItsPaperPrunes() throws {
        func reads(_ name: String) throws -> String {
            switch try ImportanceMethods.named(name).reads {
            case .weights: return "weights"
            case .statistics(_, let pass): return "statistics \(pass.rawValue)"
            case .gradients(_, let calibration): return "gradients \(calibration)"
            }
        }
        for name in ImportanceMethods.names {
            let expected = name.hasPrefix("bip") || name == "flap" ? "statistics one-shot"
                : name == "wanda-sp" ? "statistics sequential"
                : name.hasPrefix("llm-pruner") ? "gradients c4:10x64" : "weights"
            XCTAssertEqual(try reads(name), expected, name)
            let setting = try ImportanceMethods.named(name).paperSetting
            XCTAssertEqual(setting, name == "flap" ? PruningSetting(allocation: .global, biasCompensation: true) : .standard, name)
        }
        let sweeps = CalibrationSource.c4(sequences: 32, tokens: 256), requested = CalibrationSource.ptb(sequences: 4, tokens: 64)
        for (name, own) in [("bip", sweeps), ("wanda-sp", sweeps), ("magnitude-l1", sweeps), ("llm-pruner-vector", .c4(sequences: 10, tokens: 64))] {
            let method = try ImportanceMethods.named(name)
            XCTAssertEqual(method.calibration(requested: nil, standard: sweeps), own, name)
            XCTAssertEqual(method.calibration(requested: requested, standard: sweeps), requested, name)
        }
        XCTAssertEqual(PruningRequest(method: FLAPImportance(), sparsity: 0.2, allocation: .uniform).setting,
                       PruningSetting(allocation: .uniform, biasCompensation: true))
    }

    /// The C4 draw is deterministic, skips short documents and takes each document's first T tokens.
    func testC4CalibrationDraw() throws {
        let loaded = try TestModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let a = try CalibrationSet.draw(.c4(sequences: 3, tokens: 200), seed: 7, tokenizer: loaded.tokenizer, data: data)
        let b = try CalibrationSet.draw(.c4(sequences: 3, tokens: 200), seed: 7, tokenizer: loaded.tokenizer, data: data)
        XCTAssertEqual(a.sequences, b.sequences)
        XCTAssertEqual(a.sequences.map(\.count), [200, 200, 200])
        XCTAssertEqual(Set(a.origins).count, 3)
    }

    /// bip at 0.2 of the default model on a small C4 calibration: the sparsity is reached, the
    /// pruned model runs, and its WikiText2 perplexity on a few windows is finite.
    func testRealPruneAtTwentyPercent() throws {
        let loaded = try TestModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let calibration = try CalibrationSet.draw(.c4(sequences: 8, tokens: 128), seed: 0, tokenizer: loaded.tokenizer, data: data)
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: try ImportanceMethods.named("bip"), sparsity: 0.2),
                                       calibration: calibration.sequences)
        XCTAssertEqual(outcome.before.total, 134_515_008)
        XCTAssertEqual(outcome.sparsity, 0.2, accuracy: 0.001)
        XCTAssertEqual(outcome.layers, 4..<28)
        XCTAssertEqual(outcome.model.layers[0].ffnWidth, 1536)

        let text = try String(contentsOf: data.file("wikitext2/wikitext-2-raw-v1.test.joined.txt"), encoding: .utf8)
        let ids = loaded.tokenizer.encode(String(text.prefix(8000)), parseSpecial: false)
        let windows = (0..<4).map { Array(ids[($0 * 128)..<(($0 + 1) * 128)]) }
        func perplexity(_ model: LlamaModel) -> Double {
            let forward = ForwardPass(model: model), head = LanguageModelHead(model: model)
            let hidden = forward(windows.enumerated().map { SequenceInput(slot: $0.offset, tokens: $0.element) },
                                 cache: KVCache(model: model, slots: windows.count, capacity: 128))
            var rows: [Int] = [], targets: [Int] = []
            for (w, window) in windows.enumerated() {
                rows += (0..<127).map { w * 128 + $0 }
                targets += window.dropFirst()
            }
            let logProbabilities = withExtendedLifetime(forward) { head.logProbabilities(hidden, rows: rows, targets: targets) }
            return exp(-logProbabilities.reduce(0, +) / Double(logProbabilities.count))
        }
        let dense = perplexity(loaded.model), pruned = perplexity(outcome.model)
        print(String(format: "WikiText2 perplexity on 4 windows of 128: dense %.2f, bip 0.2 pruned %.2f", dense, pruned))
        XCTAssertTrue(pruned.isFinite && pruned > 1, "pruned perplexity \(pruned)")
        XCTAssertGreaterThan(pruned, dense * 0.9)
    }

    /// Wanda-sp prunes layer after layer, each scored on activations of the already pruned model.
    func testWandaSPRunsSequentially() throws {
        let model = try TestModel.loaded().model
        let calibration = try TestInputs.fixture().calibration.ids
        let outcome = try Pruner.prune(model, PruningRequest(method: WandaSPImportance(), sparsity: 0.2), calibration: calibration)
        XCTAssertEqual(outcome.sparsity, 0.2, accuracy: 0.001)
        XCTAssertEqual(outcome.scores.count, 24)
        // Layer 4 is the first pruned layer: its statistics are the dense ones.
        let dense = try CalibrationPass.statistics(model: model, sequences: calibration)
        let first = WandaSPImportance().scores(layer: model.layers[4], index: 4, statistics: dense[4])
        XCTAssertLessThanOrEqual(TestInputs.maxRelative(outcome.scores[4]!.heads, first.heads), 1e-6)
        // Later layers see pruned inputs, so their scores differ from the dense ones.
        let later = WandaSPImportance().scores(layer: model.layers[10], index: 10, statistics: dense[10])
        XCTAssertGreaterThan(TestInputs.maxRelative(outcome.scores[10]!.channels, later.channels), 1e-3)
    }
}
