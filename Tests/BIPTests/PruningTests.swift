import BIP
import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The pipeline on the tiny model: impossible requests, the C4 draw, and sequential pruning.
final class PruningTests: XCTestCase {
    func testImpossibleRequestsSayWhatIsPossible() throws {
        let model = try TinyModel.loaded().model
        // Layers 1..<4 each keeping one query head (so one KV head) and one channel: 3 × (3 heads
        // and a KV head of 2 · 64 · 16 = 2,048 each, and 127 channels of 3 · 64 = 192) = 97,728 of
        // 166,976 parameters.
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: 0.7), calibration: nil)) {
            let message = String(describing: $0)
            XCTAssertTrue(message.contains("largest reachable is \(String(format: "%.4f", 97_728.0 / 166_976))"), message)
        }
        XCTAssertNoThrow(try Pruner.prune(model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: 0.55), calibration: nil))
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
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: WandaSPImportance(), sparsity: 0.2, overrides: .init(allocation: .global)),
                                              calibration: [[1, 2]])) {
            XCTAssertTrue(String(describing: $0).contains("sequential statistics need --allocation uniform"), String(describing: $0))
        }
        XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: BIPImportance(variant: .standard), sparsity: 0.2,
                                                                    overrides: .init(allocation: .globalRaw, statistics: .sequential)),
                                              calibration: [[1, 2]]))
        for overrides in [PruningOverrides(statistics: .oneShot), PruningOverrides(biasCompensation: false)] {
            XCTAssertThrowsError(try Pruner.prune(model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: 0.2, overrides: overrides),
                                                  calibration: nil)) {
                XCTAssertTrue(String(describing: $0).contains("magnitude-l1 reads no calibration statistics"), String(describing: $0))
            }
        }
    }

    /// What each method reads, how its paper prunes, and which calibration it is pruned with.
    func testEachMethodSaysWhatItReadsAndHowItsPaperPrunes() throws {
        func reads(_ name: String) throws -> String {
            switch try ImportanceMethods.named(name).reads {
            case .weights: return "weights"
            case .statistics: return "statistics"
            case .gradients(_, let calibration): return "gradients \(calibration)"
            }
        }
        for name in ImportanceMethods.names {
            let expected = name.hasPrefix("bip") || name == "flap" || name == "wanda-sp" ? "statistics"
                : name.hasPrefix("llm-pruner") ? "gradients c4:10x64" : "weights"
            XCTAssertEqual(try reads(name), expected, name)
            let setting = try ImportanceMethods.named(name).paperSetting
            XCTAssertEqual(setting, name == "flap" ? PruningSetting(allocation: .global, biasCompensation: true, statistics: .oneShot)
                                    : name == "wanda-sp" ? PruningSetting(allocation: .uniform, biasCompensation: false, statistics: .sequential)
                                    : expected == "statistics" ? PruningSetting(allocation: .uniform, biasCompensation: false, statistics: .oneShot)
                                    : .standard, name)
        }
        let sweeps = CalibrationSource.c4(sequences: 32, tokens: 256), requested = CalibrationSource.ptb(sequences: 4, tokens: 64)
        for (name, own) in [("bip", sweeps), ("wanda-sp", sweeps), ("magnitude-l1", sweeps), ("llm-pruner-vector", .c4(sequences: 10, tokens: 64))] {
            let method = try ImportanceMethods.named(name)
            XCTAssertEqual(method.calibration(requested: nil, standard: sweeps), own, name)
            XCTAssertEqual(method.calibration(requested: requested, standard: sweeps), requested, name)
        }
        XCTAssertEqual(PruningRequest(method: FLAPImportance(), sparsity: 0.2, overrides: .init(allocation: .uniform)).setting,
                       PruningSetting(allocation: .uniform, biasCompensation: true, statistics: .oneShot))
        XCTAssertEqual(PruningRequest(method: WandaSPImportance(), sparsity: 0.2, overrides: .init(statistics: .oneShot, biasCompensation: true)).setting,
                       PruningSetting(allocation: .uniform, biasCompensation: true, statistics: .oneShot))
    }

    /// The C4 draw is deterministic, skips short documents and takes each document's first T tokens.
    func testC4CalibrationDraw() throws {
        let loaded = try TinyModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let a = try CalibrationSet.draw(.c4(sequences: 3, tokens: 200), seed: 7, tokenizer: loaded.tokenizer, data: data)
        let b = try CalibrationSet.draw(.c4(sequences: 3, tokens: 200), seed: 7, tokenizer: loaded.tokenizer, data: data)
        XCTAssertEqual(a.sequences, b.sequences)
        XCTAssertEqual(a.sequences.map(\.count), [200, 200, 200])
        XCTAssertEqual(Set(a.origins).count, 3)
    }

    /// Wanda-sp prunes layer after layer, each scored on activations of the already pruned model.
    func testWandaSPRunsSequentially() throws {
        let loaded = try TinyModel.loaded(), model = loaded.model
        let calibration = try CalibrationSet.draw(.c4(sequences: 4, tokens: 64), seed: 0, tokenizer: loaded.tokenizer,
                                                  data: DataDirectory(url: try TestModel.dataDirectory())).sequences
        let outcome = try Pruner.prune(model, PruningRequest(method: WandaSPImportance(), sparsity: 0.2), calibration: calibration)
        XCTAssertEqual(outcome.sparsity, 0.2, accuracy: 0.01)
        XCTAssertEqual(outcome.scores.count, 3)
        // Layer 1 is the first pruned layer: its statistics are the dense ones.
        let dense = try CalibrationPass.statistics(model: model, sequences: calibration)
        let first = WandaSPImportance().scores(layer: model.layers[1], index: 1, statistics: dense[1])
        XCTAssertLessThanOrEqual(TestInputs.maxRelative(outcome.scores[1]!.heads, first.heads), 1e-6)
        // Later layers see pruned inputs, so their scores differ from the dense ones.
        let later = WandaSPImportance().scores(layer: model.layers[3], index: 3, statistics: dense[3])
        XCTAssertGreaterThan(TestInputs.maxRelative(outcome.scores[3]!.channels, later.channels), 1e-3)
    }
}
