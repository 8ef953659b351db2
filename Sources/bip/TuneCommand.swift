import ArgumentParser
import BIP
import Foundation
import Gradients
import Harness
import Runtime
import Tasks

/// `bip tune`: LoRA recovery fine-tuning of a (pruned) model, LLM-Pruner's recipe by default,
/// merged into a plain model directory.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Recover a pruned model with LoRA fine-tuning (LLM-Pruner's recipe) and write the merged model.")
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Training data: an Alpaca-format JSONL file (instruction, input, output), or c4 for plain language-model tuning on the C4 calibration piece.")
    var data: String
    @Option(help: "LoRA rank.") var rank = 8
    @Option(help: "LoRA alpha (the adapters are scaled by alpha / rank).") var alpha: Float = 16
    @Option(help: "Peak learning rate (AdamW).") var lr: Float = 1e-4
    @Option(help: "Passes over the training examples.") var epochs = 2
    @Option(help: "Examples per optimizer step.") var batch = 64
    @Option(name: .customLong("micro-batch"), help: "Examples per forward/backward pass (gradients accumulate to --batch).") var microBatch = 4
    @Option(help: "Longest example in tokens.") var cutoff = 256
    @Option(name: .customLong("max-steps"), help: "Stop after this many optimizer steps.") var maxSteps: Int?
    @Option(help: "Linear warm-up steps (then linear decay).") var warmup = 100
    @Option(name: .customLong("eval-steps"), help: "Held-out loss every N steps; the best adapters are kept.") var evalSteps = 100
    @Option(name: .customLong("save-steps"), help: "A checkpoint every N steps.") var saveSteps = 200
    @Option(name: .customLong("held-out"), help: "Held-out examples (at most a tenth of the data).") var heldOut = 2000
    @Option(help: "Seed of the adapter initialisation, the split and the data order.") var seed: UInt64 = 0
    @Option(help: "Directory of the merged model (and of the checkpoints, under checkpoint/).") var output: String
    @Flag(help: "Go on from the checkpoint in OUTPUT/checkpoint.") var resume = false
    @Option(name: .customLong("data-dir"), help: "Data directory for --data c4 (default $BIP_DATA, else datasets/cache).") var dataDirectory: String?
    @Flag(help: "Print the tune's record as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            var options = TuningOptions()
            options.rank = rank
            options.alpha = alpha
            options.learningRate = lr
            options.epochs = epochs
            options.batch = batch
            options.microBatch = microBatch
            options.cutoff = cutoff
            options.maxSteps = maxSteps
            options.warmupSteps = warmup
            options.evalSteps = evalSteps
            options.saveSteps = saveSteps
            options.seed = seed
            try options.validate()
            let loaded = try modelOptions.load()
            let tuningData = data == "c4"
                ? try TuningData.c4(data: DataDirectory.resolve(dataDirectory), file: CalibrationSet.c4File,
                                    tokenizer: loaded.tokenizer, cutoff: cutoff)
                : try TuningData.alpaca(path: data, tokenizer: loaded.tokenizer, cutoff: cutoff)
            let summary = try RecoveryTune(options: options, heldOut: heldOut)
                .run(loaded, data: tuningData, output: URL(fileURLWithPath: output), resume: resume, progress: Console.status)
            if json {
                Console.printJSON(encoding: summary.record)
            } else {
                let r = summary.record
                print("data            \(r.data) (loss on \(r.lossOn)), \(r.trainingExamples) training / \(r.heldOutExamples) held-out examples")
                print("steps           \(r.steps) (LoRA rank \(rank), \(r.loraParameters) parameters)")
                if let before = r.heldOutLossBefore, let best = r.bestHeldOutLoss, let step = r.bestStep {
                    print(String(format: "held-out loss   %.4f before, %.4f best (step %d)", before, best, step))
                }
                print("output          \(summary.output.path)")
            }
        }
    }
}
