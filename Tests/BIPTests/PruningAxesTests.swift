import BIP
import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The parts of a method a request can change (`PruningOverrides`), on the tiny model: sequential
/// statistics, bias compensation, global-raw allocation, and the paper setting spelled out.
final class PruningAxesTests: XCTestCase {
    static func calibration() throws -> [[Int]] {
        let loaded = try TinyModel.loaded()
        return try CalibrationSet.draw(.c4(sequences: 4, tokens: 64), seed: 0, tokenizer: loaded.tokenizer,
                                       data: DataDirectory(url: try TestModel.dataDirectory())).sequences
    }

    /// With sequential statistics, layer l is scored on the statistics of a dense pass through the
    /// already-pruned layers 0..<l and the unpruned layer l, computed here with a full forward pass.
    func testSequentialStatisticsAreThoseOfTheAlreadyPrunedModel() throws {
        let model = try TinyModel.loaded().model, calibration = try Self.calibration()
        for method in [BIPImportance(variant: .norm), FLAPImportance()] as [any ImportanceMethod & StatisticsScorer] {
            let request = PruningRequest(method: method, sparsity: 0.2,
                                         overrides: PruningOverrides(allocation: .uniform, statistics: .sequential))
            let outcome = try Pruner.prune(model, request, calibration: calibration)
            XCTAssertEqual(outcome.setting.statistics, .sequential)
            let dense = try CalibrationPass.statistics(model: model, sequences: calibration)
            for l in outcome.layers {
                var prefix = model
                prefix.layers = Array(outcome.model.layers[0..<l]) + [model.layers[l]]
                let statistics = try CalibrationPass.statistics(model: prefix, sequences: calibration)[l]
                let expected = method.scores(layer: model.layers[l], index: l, statistics: statistics)
                let got = try XCTUnwrap(outcome.scores[l])
                XCTAssertLessThanOrEqual(TestInputs.maxRelative(got.heads, expected.heads), 1e-5, "\(method.name) layer \(l) heads")
                XCTAssertLessThanOrEqual(TestInputs.maxRelative(got.channels, expected.channels), 1e-5, "\(method.name) layer \(l) channels")
                if l > outcome.layers.lowerBound {
                    // Not the dense statistics: the test could tell the two passes apart.
                    let denseScores = method.scores(layer: model.layers[l], index: l, statistics: dense[l])
                    XCTAssertGreaterThan(TestInputs.maxRelative(got.channels, denseScores.channels), 1e-3, "\(method.name) layer \(l)")
                }
            }
        }
    }

    /// FLAP's derivation: with bias compensation, a pruned o_proj's and down_proj's mean output over
    /// the calibration tokens (their inputs being the dense model's) equals the dense projection's.
    func testBiasCompensationKeepsTheProjectionsMeanOutput() throws {
        let model = try TinyModel.loaded().model, calibration = try Self.calibration()
        let dense = try CalibrationPass.statistics(model: model, sequences: calibration)
        /// `mean_t (W x_t + b)` over the tokens, with x restricted to the `kept` input columns.
        func meanOutput(_ w: Linear, inputSums: [Double], kept: [Int], tokens: Int) -> [Double] {
            let weights = w.weight.floats
            return (0..<w.outFeatures).map { i in
                kept.enumerated().reduce(Double(w.bias?[i] ?? 0)) { sum, column in
                    sum + Double(weights[i * w.inFeatures + column.offset]) * inputSums[column.element] / Double(tokens)
                }
            }
        }
        for (statistics, compensating) in [(StatisticsPass.oneShot, true), (.sequential, true), (.oneShot, false)] {
            let request = PruningRequest(method: BIPImportance(variant: .standard), sparsity: 0.2,
                                         overrides: PruningOverrides(statistics: statistics, biasCompensation: compensating))
            let outcome = try Pruner.prune(model, request, calibration: calibration)
            for l in outcome.layers where statistics == .oneShot || l == outcome.layers.lowerBound {
                // Sequential statistics of the first pruned layer are the dense ones.
                let plan = try XCTUnwrap(outcome.plans[l]), stats = dense[l], source = model.layers[l], pruned = outcome.model.layers[l]
                let columns = plan.keptHeads.flatMap { h in (h * source.headDim)..<((h + 1) * source.headDim) }
                let all = Array(0..<source.output.inFeatures), channels = Array(0..<source.ffnWidth)
                let pairs = [(meanOutput(source.output, inputSums: stats.aSum, kept: all, tokens: stats.tokens),
                              meanOutput(pruned.output, inputSums: stats.aSum, kept: columns, tokens: stats.tokens), "o_proj"),
                             (meanOutput(source.down, inputSums: stats.zSum, kept: channels, tokens: stats.tokens),
                              meanOutput(pruned.down, inputSums: stats.zSum, kept: plan.keptChannels, tokens: stats.tokens), "down_proj")]
                for (before, after, name) in pairs {
                    let scale = before.map(abs).max()!, difference = zip(before, after).map { abs($0 - $1) }.max()!
                    if compensating {
                        XCTAssertLessThanOrEqual(difference, 1e-5 * scale, "\(statistics) layer \(l) \(name)")
                    } else {
                        XCTAssertGreaterThan(difference, 1e-3 * scale, "without compensation layer \(l) \(name) moves")
                    }
                }
            }
        }
    }

    /// A request that spells out a method's paper setting prunes exactly as the default request.
    func testThePaperSettingSpelledOutGivesTheSameModelBitForBit() throws {
        let model = try TinyModel.loaded().model, calibration = try Self.calibration()
        for name in ["bip", "wanda-sp", "flap", "magnitude-l1"] {
            let method = try ImportanceMethods.named(name), paper = method.paperSetting
            let spelled = PruningOverrides(allocation: paper.allocation, statistics: paper.statistics,
                                           biasCompensation: method.reads.readsStatistics ? paper.biasCompensation : nil,
                                           layers: .range(LayerRange.standard(layerCount: model.layers.count)))
            XCTAssertEqual(spelled.departures(from: paper), PruningOverrides(layers: spelled.layers), name)
            let a = try Pruner.prune(model, PruningRequest(method: method, sparsity: 0.2), calibration: calibration)
            let b = try Pruner.prune(model, PruningRequest(method: method, sparsity: 0.2, overrides: spelled), calibration: calibration)
            XCTAssertEqual(a.plans, b.plans, name)
            XCTAssertEqual(a.setting, b.setting, name)
            DeterminismTests.assertBitIdentical(a.model, b.model, name)
        }
    }

    /// `global-raw` compares LLM-BIP's scores as they are; `global` standardizes them per layer
    /// first, which where the layers' scores differ in scale (as on the tiny model) removes other units.
    func testGlobalRawDiffersFromGlobalWhereScalesDiffer() throws {
        let model = try TinyModel.loaded().model, calibration = try Self.calibration()
        func prune(_ allocation: Allocation) throws -> PruningOutcome {
            try Pruner.prune(model, PruningRequest(method: BIPImportance(variant: .standard), sparsity: 0.2,
                                                   overrides: PruningOverrides(allocation: allocation)), calibration: calibration)
        }
        let global = try prune(.global), raw = try prune(.globalRaw)
        let means = raw.scores.keys.sorted().map { l in raw.scores[l]!.channels.reduce(0, +) / Double(raw.scores[l]!.channels.count) }
        XCTAssertGreaterThan(means.max()! / means.min()!, 1.05, "the layers' channel scores differ in scale")
        XCTAssertNotEqual(global.plans, raw.plans)
        XCTAssertEqual(raw.setting.allocation, .globalRaw)
        XCTAssertEqual(raw.sparsity, 0.2, accuracy: 0.02)
        // The lowest raw channel score of all goes under global-raw.
        let lowest = raw.scores.flatMap { l, s in s.channels.enumerated().map { (score: $0.element, layer: l, channel: $0.offset) } }
            .min { $0.score < $1.score }!
        XCTAssertFalse(raw.plans[lowest.layer]!.keptChannels.contains(lowest.channel))
    }

    /// The written config records the statistics pass and bias compensation; a config without
    /// them (written before they were recorded) still loads.
    func testProvenanceRecordsTheStatisticsPassAndBiasCompensation() throws {
        let loaded = try TinyModel.loaded(), calibration = try Self.calibration()
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: WandaSPImportance(), sparsity: 0.2,
                                                                    overrides: PruningOverrides(biasCompensation: true)),
                                       calibration: calibration)
        let provenance = PruningProvenance(outcome, method: "wanda-sp", sparsityRequested: 0.2, calibration: nil, seed: 0,
                                           sourceModel: "tiny", sourceSHA256: "0")
        XCTAssertEqual(provenance.statistics, "sequential")
        XCTAssertEqual(provenance.biasCompensation, true)
        let folder = try temporaryFolder("axes")
        try ModelDirectory.write(outcome.model, to: folder, dtype: .f32, provenance: provenance, tokenizerSource: try loaded.tokenizerSource())
        let configURL = folder.appendingPathComponent("config.json")
        XCTAssertEqual(try HFConfig.read(from: configURL).bip?.provenance, provenance)
        let text = try String(contentsOf: configURL, encoding: .utf8)
        XCTAssertTrue(text.contains("\"statistics\"") && text.contains("\"bias_compensation\""), text)
        let old = text.replacingOccurrences(of: #""statistics" *: *"sequential" *,?"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #""bias_compensation" *: *true *,?"#, with: "", options: .regularExpression)
        try old.write(to: configURL, atomically: true, encoding: .utf8)
        let reloaded = try XCTUnwrap(try HFConfig.read(from: configURL).bip?.provenance)
        XCTAssertNil(reloaded.statistics)
        XCTAssertNil(reloaded.biasCompensation)
    }
}
