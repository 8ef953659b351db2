import ArgumentParser
import BIP
import Foundation
import Runtime
import Tasks

/// `bip prune`: structured pruning with LLM-BIP or a baseline, physical removal, and optionally
/// writing the pruned model as an HF-style directory.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune query heads and FFN channels with LLM-BIP or a baseline and write the smaller model.")
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Importance method: \(ImportanceMethods.names.joined(separator: ", ")).") var method = "bip"
    @Option(help: "Fraction of the model's total parameters to remove, e.g. 0.2.") var sparsity: Double
    @Option(help: "uniform, global (FLAP's) or global-raw (one threshold over unstandardized scores); default: the method's own (global for flap, else uniform).")
    var allocation: String?
    @Option(help: "one-shot (dense statistics) or sequential (each layer's after the earlier layers were pruned), for the methods that read calibration statistics; default: the method's own (sequential for wanda-sp, else one-shot).")
    var statistics: String?
    @Option(name: .customLong("bias-compensation"), help: "on or off: removed units' mean output becomes a bias (FLAP's), for the methods that read calibration statistics; default: the method's own (on for flap, else off).")
    var biasCompensation: String?
    @Option(help: "Layers to prune: all or A..<B (default: skip the first L/8 and the last L/16).") var layers: String?
    @Option(help: "Calibration source NAME:NxT with NAME c4, ptb or wikitext2 (test split). Default c4:128x128, or the method's own (llm-pruner-*: c4:10x64).")
    var calibration: String?
    @Option(name: .customLong("calibration-ids"), help: "A JSON array of token-id arrays, used exactly (overrides --calibration).")
    var calibrationIDs: String?
    @Option(help: "Seed of the calibration draw and of the random method.") var seed: UInt64 = 0
    @Option(help: "Write the pruned model to this directory.") var output: String?
    @Option(help: "Weight type of the written model: f32 or f16.") var dtype = "f32"
    @Option(help: "Write every pruned layer's head and channel scores and the calibration ids to this JSON file.") var scores: String?
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard sparsity > 0, sparsity < 1 else { throw ValidationError("--sparsity must lie strictly between 0 and 1") }
        guard Safetensors.DType(rawValue: dtype.uppercased()) != nil else { throw ValidationError("--dtype must be f32 or f16") }
        if let allocation, Allocation(rawValue: allocation) == nil {
            throw ValidationError("--allocation must be \(Allocation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let statistics, StatisticsPass(rawValue: statistics) == nil {
            throw ValidationError("--statistics must be \(StatisticsPass.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        if let biasCompensation, !["on", "off"].contains(biasCompensation) {
            throw ValidationError("--bias-compensation must be on or off")
        }
    }

    func run() throws {
        try reportingErrors { try prune() }
    }

    private func prune() throws {
        var seconds: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            seconds.append((phase, Date().timeIntervalSince(clock)))
            clock = Date()
        }
        let method = try ImportanceMethods.named(self.method, seed: seed)
        let loaded = try modelOptions.load()
        let overrides = PruningOverrides(allocation: allocation.flatMap(Allocation.init(rawValue:)),
                                         statistics: statistics.flatMap(StatisticsPass.init(rawValue:)),
                                         biasCompensation: biasCompensation.map { $0 == "on" },
                                         layers: try layers.map(LayerSelection.init(parsing:)))
        if let refusal = overrides.refusal(for: method) { throw PruningError(refusal) }
        lap("load")

        var calibrationSet: CalibrationSet?
        if method.reads.readsCalibration {
            let source = method.calibration(requested: try calibrationIDs.map { CalibrationSource.ids(path: $0) }
                                                ?? calibration.map(CalibrationSource.init(parsing:)))
            Console.status("drawing calibration \(source) with seed \(seed)")
            calibrationSet = try CalibrationSet.draw(source, seed: seed, tokenizer: loaded.tokenizer, data: DataDirectory.resolve(data))
            if source.isTestData { Console.status("warning: calibrating on WikiText2 test data, which the perplexity evaluation also uses") }
            lap("calibration")
        }

        let request = PruningRequest(method: method, sparsity: sparsity, overrides: overrides)
        let outcome = try Pruner.prune(loaded.model, request, calibration: calibrationSet?.sequences, progress: Console.status)
        seconds += outcome.seconds.map { ($0.phase, $0.seconds) }
        clock = Date()

        if let output {
            Console.status("writing \(output)")
            let provenance = PruningProvenance(
                outcome, method: method.name, sparsityRequested: sparsity, calibration: calibrationSet, seed: seed,
                sourceModel: loaded.path, sourceSHA256: try loaded.fileSHA256())
            try ModelDirectory.write(outcome.model, to: URL(fileURLWithPath: output),
                                     dtype: Safetensors.DType(rawValue: dtype.uppercased())!, provenance: provenance,
                                     tokenizerSource: try loaded.tokenizerSource())
            lap("write")
        }
        if let scores {
            let layers: [[String: Any]] = outcome.scores.keys.sorted().map {
                ["index": $0, "heads": outcome.scores[$0]!.heads, "channels": outcome.scores[$0]!.channels]
            }
            var file: [String: Any] = ["method": method.name, "layers": layers]
            if let calibrationSet {
                file["calibration"] = ["spec": calibrationSet.source.description, "seed": NSNumber(value: seed),
                                       "test_data": calibrationSet.isTestData, "ids": calibrationSet.sequences] as [String: Any]
            }
            try JSONSerialization.data(withJSONObject: file, options: [.sortedKeys]).write(to: URL(fileURLWithPath: scores))
        }
        report(outcome, calibrationSet: calibrationSet, seconds: seconds)
    }

    private func report(_ outcome: PruningOutcome, calibrationSet: CalibrationSet?, seconds: [(String, Double)]) {
        let layers = outcome.model.layers
        if json {
            var result: [String: Any] = [
                "method": method,
                "sparsity_requested": sparsity, "sparsity_reached": outcome.sparsity,
                "parameters_before": outcome.before.total, "parameters_after": outcome.after.total,
                "attention_mlp_before": outcome.before.attentionAndMLP, "attention_mlp_after": outcome.after.attentionAndMLP,
                "attention_mlp_sparsity": outcome.attentionAndMLPSparsity,
                "allocation": outcome.setting.allocation.rawValue,
                "statistics": outcome.setting.statistics.map { $0.rawValue as Any } ?? NSNull(),
                "bias_compensation": outcome.setting.biasCompensation,
                "layer_range": "\(outcome.layers.lowerBound)..<\(outcome.layers.upperBound)",
                "layers": layers.enumerated().map { ["index": $0.offset, "heads": $0.element.queryHeads,
                                                     "kv_heads": $0.element.kvHeads, "ffn": $0.element.ffnWidth] },
                "seconds": Dictionary(seconds, uniquingKeysWith: +),
                "output": output.map { $0 as Any } ?? NSNull(),
            ]
            if let calibrationSet {
                result["calibration"] = calibrationSet.source.description
                result["calibration_tokens"] = calibrationSet.tokenCount
                result["calibration_is_test_data"] = calibrationSet.isTestData
            }
            try? Console.printJSON(result)
            return
        }
        func grouped(_ n: Int) -> String {
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.groupingSeparator = ","
            return formatter.string(from: NSNumber(value: n)) ?? String(n)
        }
        let setting = outcome.setting
        print("method          \(method) (allocation \(setting.allocation.rawValue)"
              + (setting.statistics.map { ", \($0.rawValue) statistics, bias compensation \(setting.biasCompensation ? "on" : "off")" } ?? "")
              + ", layers \(outcome.layers.lowerBound)..<\(outcome.layers.upperBound))")
        if let calibrationSet {
            print("calibration     \(calibrationSet.source) seed \(seed), \(calibrationSet.sequences.count) sequences, \(calibrationSet.tokenCount) tokens\(calibrationSet.isTestData ? " (TEST DATA)" : "")")
        }
        print("parameters      \(grouped(outcome.before.total)) -> \(grouped(outcome.after.total))"
              + String(format: "  sparsity %.4f (requested %.4f)", outcome.sparsity, sparsity))
        print("attention+MLP   \(grouped(outcome.before.attentionAndMLP)) -> \(grouped(outcome.after.attentionAndMLP))"
              + String(format: "  removed %.4f", outcome.attentionAndMLPSparsity))
        print("layer  heads  kv  ffn")
        for (l, layer) in layers.enumerated() {
            print(String(format: "%5d  %5d  %2d  %4d", l, layer.queryHeads, layer.kvHeads, layer.ffnWidth))
        }
        print("seconds         " + seconds.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
        if let output { print("output          \(output)") }
    }
}
