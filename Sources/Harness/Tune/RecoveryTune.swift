import Foundation
import Gradients
import Runtime
import Tasks

/// A LoRA recovery tune from start (or checkpoint) to the merged model directory: the loop of
/// `bip tune` and of `bip sweep --tune`. Checkpoints go to `OUTPUT/checkpoint`; the merged model
/// (best adapters by held-out loss) to `OUTPUT`, with the tune's record in its config.json.
public struct RecoveryTune {
    public var options: TuningOptions
    /// Held-out examples requested (at most a tenth of the data is held out).
    public var heldOut: Int

    public init(options: TuningOptions, heldOut: Int = 2000) {
        self.options = options
        self.heldOut = heldOut
    }

    /// What a finished tune reports.
    public struct Summary {
        public var record: TuneRecord
        public var output: URL
    }

    public static func checkpointDirectory(_ output: URL) -> URL { output.appendingPathComponent("checkpoint") }

    public func run(_ source: LoadedModel, data: TuningData, output: URL, resume: Bool,
                    progress: (String) -> Void) throws -> Summary {
        let split = data.split(heldOut: heldOut, seed: options.seed)
        func sequences(_ examples: [TuningExample]) -> [TrainingSequence] {
            examples.map { $0.responseStart == 0 ? .languageModeling($0.tokens) : .response($0.tokens, responseStart: $0.responseStart) }
        }
        let tuning = try LoRATuning(model: source.model, options: options, training: sequences(split.training),
                                    heldOut: sequences(split.heldOut))
        let checkpoints = Self.checkpointDirectory(output)
        var state: TuningState
        if TuningCheckpoint.exists(in: checkpoints) {
            guard resume else {
                throw TuningError("\(checkpoints.path) holds a checkpoint of an earlier tune: pass --resume to go on from it, or choose another --output")
            }
            state = try TuningCheckpoint.read(from: checkpoints, options: options)
            let fresh = tuning.start().lora
            guard state.lora.adapters == fresh.adapters, state.lora.values.count == fresh.values.count else {
                throw TuningError("\(checkpoints.path): the checkpoint's adapters do not fit this model; run without --resume to start over")
            }
            progress("tune: resuming at step \(state.step)/\(tuning.totalSteps) from \(checkpoints.path)")
        } else {
            state = tuning.start()
        }
        progress("tune: \(data.source), \(split.training.count) training and \(split.heldOut.count) held-out examples, \(tuning.totalSteps) steps of \(options.batch), LoRA rank \(options.rank) (\(state.lora.values.count) parameters)")
        if state.heldOutLosses.isEmpty, let loss = tuning.evaluate(&state) {
            progress(String(format: "tune: held-out loss before tuning %.4f", loss))
        }
        let started = Date(), firstStep = state.step
        var tokens = 0
        while state.step < tuning.totalSteps {
            let step = tuning.step(&state)
            tokens += step.tokens
            let elapsed = Date().timeIntervalSince(started), done = state.step - firstStep
            let eta = Double(tuning.totalSteps - state.step) * elapsed / Double(done)
            progress(String(format: "tune: step %d/%d, loss %.4f, lr %.2e, %.0f tokens/s, ETA %@", state.step, tuning.totalSteps,
                            step.loss, tuning.learningRate(step: state.step - 1), Double(tokens) / elapsed, ProgressMeter.duration(eta)))
            if state.step % options.evalSteps == 0 || state.step == tuning.totalSteps, let loss = tuning.evaluate(&state) {
                progress(String(format: "tune: held-out loss %.4f at step %d (best %.4f at step %d)", loss, state.step,
                                state.best!.loss, state.best!.step))
            }
            if state.step % options.saveSteps == 0 || state.step == tuning.totalSteps {
                try TuningCheckpoint.write(state, options: options, to: checkpoints)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let lora = tuning.final(state)
        let merged = lora.merged(into: source.model)
        let record = TuneRecord(
            data: data.source, lossOn: data.examples.contains { $0.responseStart > 0 } ? "response tokens" : "every token",
            options: .init(tuning: options, heldOutRequested: heldOut),
            trainingExamples: split.training.count, heldOutExamples: split.heldOut.count,
            steps: state.step, loraParameters: lora.values.count,
            heldOutLossBefore: state.heldOutLosses.first?.loss, bestStep: state.best?.step, bestHeldOutLoss: state.best?.loss,
            trainingLossFirst: state.trainingLosses.first?.loss, trainingLossLast: state.trainingLosses.last?.loss,
            tokensPerSecondThisRun: seconds > 0 ? Double(tokens) / seconds : 0, tunedFrom: source.path)
        try TunedModelDirectory.write(merged, tunedFrom: source, record: record, to: output)
        return Summary(record: record, output: output)
    }
}
