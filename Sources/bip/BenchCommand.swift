import ArgumentParser
import Foundation
import Gradients
import Runtime
import Tasks

/// `bip bench`: forward throughput on windows of WikiText2, against this machine's sgemm rate.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure forward tokens/s on windows of real text (WikiText2 test), GFLOP/s, and peak memory.")
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var computeOption: ComputeOption
    @Option(name: .customLong("seq-len"), help: "Tokens per window.") var seqLen = 128
    @Option(help: "Windows per forward batch.") var batch = 8
    @Option(help: "How long to measure, after one warm-up batch.") var seconds = 20.0
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @Flag(inversion: .prefixedNo, help: "Measure this machine's sgemm rate too, in turn with the batches (the ceiling; it doubles the time).") var sgemm = true
    @Option(help: "Also run this model (e.g. the dense one), batch by batch in turn with --model, and report both rates and their ratio; peak memory is then --model's alone, taken before this one loads.")
    var against: String?
    @Option(help: "Measure training steps instead: lora (forward + backward to LoRA rank-8 adapters, as bip tune) or weights (every projection weight's gradient, as LLM-Pruner's scoring). --batch windows per step.")
    var train: String?
    @Flag(help: "Print the figures as JSON.") var json = false

    func validate() throws {
        guard seqLen >= 2 else { throw ValidationError("--seq-len must be at least 2") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard train == nil || train == "lora" || train == "weights" else { throw ValidationError("--train must be lora or weights") }
        guard train == nil || against == nil else { throw ValidationError("--train and --against cannot be combined") }
        guard train == nil || computeOption.compute == .fp32 else { throw ValidationError("--train measures fp32 training steps: no --compute") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try modelOptions.load(for: train == nil ? computeOption.compute : nil)
            let textFile = DataDirectory.resolve(data).file("wikitext2/wikitext-2-raw-v1.test.joined.txt")
            guard let text = try? String(contentsOf: textFile, encoding: .utf8) else {
                throw FileError(textFile.path, "cannot read the WikiText2 test text (set --data or $BIP_DATA)")
            }
            let ids = loaded.tokenizer.encode(text, parseSpecial: false)
            let windows = stride(from: 0, to: ids.count - seqLen + 1, by: seqLen).prefix(512).map { Array(ids[$0..<($0 + seqLen)]) }
            guard !windows.isEmpty else { throw FileError(textFile.path, "too short for one window of \(seqLen) tokens") }

            if let train {
                try measureTraining(loaded, windows: windows, adapters: train == "lora")
                return
            }
            let benchmark = ThroughputBenchmark(batch: batch, seqLen: seqLen, seconds: seconds, measuresCeiling: sgemm)
            let measured: ThroughputBenchmark.Measurement, peak: Int
            var second: LoadedModel?
            if let against {
                // One batch of --model alone, so that its peak memory is its own.
                _ = ThroughputBenchmark(batch: batch, seqLen: seqLen, seconds: 0).run([loaded.model], windows: windows)
                peak = ThroughputBenchmark.peakMemoryBytes()
                second = try LoadedModel.load(against, progress: Console.status)
                try second!.prepare(for: computeOption.compute)
                Console.status(String(format: "running both models in turn for %.0f s each", seconds))
                measured = benchmark.run([loaded.model, second!.model], windows: windows, progress: { Console.status($0) })
            } else {
                Console.status(String(format: "running the model for %.0f s", seconds))
                measured = benchmark.run([loaded.model], windows: windows, progress: { Console.status($0) })
                peak = ThroughputBenchmark.peakMemoryBytes()
            }
            let result = measured.results[0], sgemmRate = measured.sgemmGFLOPS
            let other = second.map { (loaded: $0, result: measured.results[1]) }
            let gflopPerToken = 2 * ModelCost.macsPerToken(loaded.model, context: seqLen) / 1e9
            if json {
                let report = BenchReport(
                    model: loaded.path, benchmark: benchmark, measured: result, gflopPerToken: gflopPerToken, peakMemoryBytes: peak,
                    against: other.map { BenchReport.Against(model: $0.loaded.path, measured: $0.result) }, sgemmGFLOPS: sgemmRate,
                    packedMatmulGFLOPS: measured.packedGFLOPS)
                print(report.json)
            } else {
                print(String(format: "model           %@", loaded.path))
                print(String(format: "windows         %d x %d tokens per batch", batch, seqLen))
                print("precision       \(computeOption.compute.rawValue) projections")
                print(String(format: "throughput      %.1f tokens/s (%d tokens in %.1f s)", result.tokensPerSecond, result.tokens, result.elapsed))
                print(String(format: "compute         %.1f GFLOP/s (%.3f GFLOP per token)", result.gflopsPerSecond, gflopPerToken))
                if let sgemmRate {
                    print(String(format: "machine sgemm   %.1f GFLOP/s in turn -> ceiling %.0f tokens/s; reached %.0f%%", sgemmRate,
                                 sgemmRate / gflopPerToken, 100 * result.gflopsPerSecond / sgemmRate))
                }
                if let packedRate = measured.packedGFLOPS {
                    print(String(format: "packed matmul   %.1f GFLOP/s in turn (oneDNN, weights packed once) -> ceiling %.0f tokens/s; reached %.0f%%",
                                 packedRate, packedRate / gflopPerToken, 100 * result.gflopsPerSecond / packedRate))
                }
                if let other {
                    print(String(format: "against         %@: %.1f tokens/s, run in turn; speed-up %.3f×", other.loaded.path,
                                 other.result.tokensPerSecond, result.tokensPerSecond / other.result.tokensPerSecond))
                }
                print(String(format: "peak memory     %.0f MB", Double(peak) / 1e6))
            }
        }
    }

    /// Training steps on `--batch` windows for `--seconds` (after one warm-up step): tokens/s of
    /// forward + backward, and peak memory.
    private func measureTraining(_ loaded: LoadedModel, windows: [[Int]], adapters: Bool) throws {
        let pass = TrainingPass(model: loaded.model)
        let lora = adapters ? LoRA(model: loaded.model, rank: 8, alpha: 16, seed: 0) : nil
        let target: GradientTarget = adapters ? .adapters : .weights
        var next = 0
        func step() -> Int {
            let batch = (0..<batch).map { _ in
                defer { next = (next + 1) % windows.count }
                return TrainingSequence.languageModeling(windows[next])
            }
            _ = pass.gradients(batch, target: target, lora: lora, scale: 1 / Float(batch.count * (seqLen - 1)))
            return batch.count * seqLen
        }
        Console.status("one warm-up step")
        _ = step()
        var tokens = 0, steps = 0
        let started = Date()
        while Date().timeIntervalSince(started) < seconds {
            tokens += step()
            steps += 1
            Console.status(String(format: "step %d: %.1f tokens/s", steps, Double(tokens) / Date().timeIntervalSince(started)))
        }
        let elapsed = Date().timeIntervalSince(started), peak = ThroughputBenchmark.peakMemoryBytes()
        let what = adapters ? "LoRA rank 8 on q, k, v, o, gate, up, down" : "every projection weight"
        if json {
            try Console.printJSON(["model": loaded.path, "train": train!, "seq_len": seqLen, "batch": batch, "steps": steps,
                                   "tokens": tokens, "seconds": elapsed, "tokens_per_second": Double(tokens) / elapsed,
                                   "peak_memory_bytes": peak, "cores": ProcessInfo.processInfo.activeProcessorCount])
        } else {
            print(String(format: "model           %@", loaded.path))
            print("gradients of    \(what)")
            print(String(format: "steps           %d of %d x %d tokens (forward + backward)", steps, batch, seqLen))
            print(String(format: "throughput      %.1f tokens/s (%d tokens in %.1f s)", Double(tokens) / elapsed, tokens, elapsed))
            print(String(format: "peak memory     %.0f MB", Double(peak) / 1e6))
        }
    }
}
