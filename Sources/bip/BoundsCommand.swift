import ArgumentParser
import BIP
import Foundation
import Runtime
import Tasks

/// `bip bounds`: how well each bip variant's head score bounds and ranks the block-output change
/// measured by actually removing the head (see `HeadBoundSurvey`).
struct BoundsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounds",
        abstract: "Compare each bip variant's head scores with the block-output change measured by removing each head.",
        discussion: """
            Per layer and query head: the block is recomputed on the calibration tokens with the head's o_proj \
            columns zeroed; measured = Σ_t ||y'_t - y_t||_1 / N. Reported per layer and variant: Spearman rank \
            correlation of score and measured change, bound violations (measured > score) and the median \
            score/measured ratio; overall: the mean per-layer Spearman and the same figures pooled over all heads.
            """)
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Calibration source NAME:NxT with NAME c4, ptb or wikitext2 (test split).") var calibration = "c4:16x128"
    @Option(name: .customLong("calibration-ids"), help: "A JSON array of token-id arrays, used exactly (overrides --calibration).")
    var calibrationIDs: String?
    @Option(help: "Seed of the calibration draw.") var seed: UInt64 = 0
    @Option(help: "Layers to survey: all or A..<B.") var layers = "all"
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @Flag(help: "Print the result as JSON (every head's measured change and scores, and the summaries).") var json = false

    func run() throws {
        try reportingErrors { try survey() }
    }

    private func survey() throws {
        let loaded = try modelOptions.load()
        let range = try LayerRange.parse(layers, layerCount: loaded.model.layers.count)
        let source = try calibrationIDs.map { CalibrationSource.ids(path: $0) } ?? CalibrationSource(parsing: calibration)
        Console.status("drawing calibration \(source) with seed \(seed)")
        let calibrationSet = try CalibrationSet.draw(source, seed: seed, tokenizer: loaded.tokenizer, data: DataDirectory.resolve(data))
        if source.isTestData { Console.status("warning: calibrating on WikiText2 test data") }
        Console.status("bounds: layers \(range.lowerBound)..<\(range.upperBound), \(calibrationSet.sequences.count) sequences, \(calibrationSet.tokenCount) tokens")
        let started = Date()
        let results = try HeadBoundSurvey.run(model: loaded.model, sequences: calibrationSet.sequences, layers: range,
                                              progress: Console.status)
        let seconds = Date().timeIntervalSince(started)
        let variants = HeadBoundSurvey.variants

        func summary(_ a: HeadBoundSurvey.Agreement) -> [String: Any] {
            ["spearman": a.spearman, "violations": a.violations, "of": a.count, "median_score_over_measured": a.medianRatio,
             "concordant_pairs": a.concordantPairs, "pairs": a.pairs]
        }
        let perLayer = results.map { layer in variants.map { HeadBoundSurvey.Agreement(scores: layer.scores[$0]!, measured: layer.measured) } }
        let pooled = variants.map { HeadBoundSurvey.pooled(results, $0) }
        let meanRho = variants.indices.map { v in perLayer.reduce(0.0) { $0 + $1[v].spearman } / Double(perLayer.count) }
        let concordant = variants.indices.map { v in perLayer.reduce(0) { $0 + $1[v].concordantPairs } }
        let pairs = perLayer.reduce(0) { $0 + ($1.first?.pairs ?? 0) }

        if json {
            var overall: [String: Any] = [:]
            for (v, variant) in variants.enumerated() {
                var entry = summary(pooled[v])
                entry["spearman_pooled"] = pooled[v].spearman
                entry["spearman"] = nil
                entry["mean_layer_spearman"] = meanRho[v]
                entry["within_layer_concordant_pairs"] = concordant[v]
                entry["within_layer_pairs"] = pairs
                overall[variant.rawValue] = entry
            }
            let layers: [[String: Any]] = results.enumerated().map { i, layer in
                var entry: [String: Any] = ["index": layer.index, "measured": layer.measured]
                for (v, variant) in variants.enumerated() {
                    entry[variant.rawValue] = summary(perLayer[i][v]).merging(["scores": layer.scores[variant]!]) { $1 }
                }
                return entry
            }
            try Console.printJSON([
                "model": loaded.path, "calibration": calibrationSet.source.description, "seed": NSNumber(value: seed),
                "tokens": calibrationSet.tokenCount,
                "measured": "sum over tokens of ||y' - y||_1 / N, y the block output, head h's o_proj columns zeroed",
                "layers": layers, "overall": overall, "seconds": seconds,
            ] as [String: Any])
            return
        }

        print("calibration \(calibrationSet.source) seed \(seed): \(calibrationSet.sequences.count) sequences, \(calibrationSet.tokenCount) tokens")
        print("measured = mean over tokens of ||y' - y||_1, y the block output, the head's o_proj columns zeroed; "
              + "rho = Spearman of score vs measured over the layer's heads; viol = heads with measured > score; ratio = median score / measured")
        print("")
        print("| layer | measured min-max | " + variants.map { "\($0.rawValue) rho | viol | ratio" }.joined(separator: " | ") + " |")
        print("|---:|---:|" + String(repeating: "---:|---:|---:|", count: variants.count))
        func g(_ x: Double) -> String { String(format: "%.4g", x) }
        for (i, layer) in results.enumerated() {
            let cells = variants.indices.map { v -> String in
                let a = perLayer[i][v]
                return String(format: "%.3f | %d/%d | ", a.spearman, a.violations, a.count) + g(a.medianRatio)
            }
            print("| \(layer.index) | \(g(layer.measured.min()!))-\(g(layer.measured.max()!)) | " + cells.joined(separator: " | ") + " |")
        }
        print("| mean rho over layers | | " + variants.indices.map { v in
            String(format: "%.3f | | ", meanRho[v])
        }.joined(separator: " | ") + " |")
        print("| pooled, all heads | | " + variants.indices.map { v in
            String(format: "%.3f | %d/%d | ", pooled[v].spearman, pooled[v].violations, pooled[v].count) + g(pooled[v].medianRatio)
        }.joined(separator: " | ") + " |")
        print("")
        print("head pairs within a layer ordered like the measured change: " + variants.indices.map { v in
            String(format: "%@ %d/%d (%.1f%%)", variants[v].rawValue, concordant[v], pairs, 100 * Double(concordant[v]) / Double(max(pairs, 1)))
        }.joined(separator: ", "))
        print(String(format: "seconds      %.1f", seconds))
    }
}
