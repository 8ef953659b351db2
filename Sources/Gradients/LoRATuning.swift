import Foundation
import Runtime

/// The recipe of a LoRA recovery tune; the defaults are LLM-Pruner's post-training recipe.
public struct TuningOptions: Sendable, Codable, Equatable {
    public var rank = 8
    public var alpha: Float = 16
    public var learningRate: Float = 1e-4
    public var epochs = 2
    /// Sequences per optimizer step.
    public var batch = 64
    /// Sequences per forward/backward pass (the batch's gradient is accumulated over them).
    public var microBatch = 4
    /// Longest sequence in tokens; longer examples are cut.
    public var cutoff = 256
    /// Stop after this many optimizer steps (nil: `epochs` full passes).
    public var maxSteps: Int?
    /// Linear warm-up steps, then linear decay to 0 (HF's "linear" schedule).
    public var warmupSteps = 100
    /// Held-out loss every this many steps (and at the end); the best adapters are kept.
    public var evalSteps = 100
    /// A checkpoint every this many steps.
    public var saveSteps = 200
    public var weightDecay: Float = 0
    public var seed: UInt64 = 0

    public init() {}

    /// Any field left out keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TuningOptions()
        rank = try c.decodeIfPresent(Int.self, forKey: .rank) ?? d.rank
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? d.alpha
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? d.batch
        microBatch = try c.decodeIfPresent(Int.self, forKey: .microBatch) ?? d.microBatch
        cutoff = try c.decodeIfPresent(Int.self, forKey: .cutoff) ?? d.cutoff
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
        evalSteps = try c.decodeIfPresent(Int.self, forKey: .evalSteps) ?? d.evalSteps
        saveSteps = try c.decodeIfPresent(Int.self, forKey: .saveSteps) ?? d.saveSteps
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    enum CodingKeys: String, CodingKey {
        case rank, alpha, learningRate = "lr", epochs, batch, microBatch = "micro_batch", cutoff, maxSteps = "max_steps"
        case warmupSteps = "warmup", evalSteps = "eval_steps", saveSteps = "save_steps", weightDecay = "weight_decay", seed
    }

    /// Throws when a value cannot describe a tune.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw TuningError(message) } }
        try check(rank >= 1, "--rank must be at least 1")
        try check(alpha > 0, "--alpha must be positive")
        try check(learningRate > 0 && learningRate.isFinite, "--lr must be positive")
        try check(epochs >= 1, "--epochs must be at least 1")
        try check(batch >= 1 && microBatch >= 1, "--batch and --micro-batch must be at least 1")
        try check(batch % microBatch == 0, "--batch \(batch) is not a multiple of --micro-batch \(microBatch)")
        try check(cutoff >= 2, "--cutoff must be at least 2 tokens")
        try check(maxSteps.map { $0 >= 1 } ?? true, "--max-steps must be at least 1")
        try check(warmupSteps >= 0 && evalSteps >= 1 && saveSteps >= 1, "--warmup must be ≥ 0, --eval-steps and --save-steps ≥ 1")
    }
}

/// A tune that cannot start or go on: bad options, no data, a checkpoint of another tune.
public struct TuningError: InputError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where a tune stands: the adapters, the optimizer, the best adapters by held-out loss and the
/// loss curves. Saved as a checkpoint and resumed from one.
public struct TuningState: Sendable, Equatable {
    public var step: Int
    public var lora: LoRA
    public var optimizer: AdamW
    public var best: (values: [Float], loss: Double, step: Int)?
    /// (step, mean training loss of the step).
    public var trainingLosses: [(step: Int, loss: Double)]
    /// (step, mean held-out loss).
    public var heldOutLosses: [(step: Int, loss: Double)]

    public static func == (a: TuningState, b: TuningState) -> Bool {
        a.step == b.step && a.lora == b.lora && a.optimizer == b.optimizer && a.best?.values == b.best?.values
            && a.best?.loss == b.best?.loss && a.best?.step == b.best?.step
            && a.trainingLosses.map(\.step) == b.trainingLosses.map(\.step)
            && a.trainingLosses.map(\.loss) == b.trainingLosses.map(\.loss)
            && a.heldOutLosses.map(\.step) == b.heldOutLosses.map(\.step)
            && a.heldOutLosses.map(\.loss) == b.heldOutLosses.map(\.loss)
    }
}

/// LoRA recovery tuning of a (pruned) model: AdamW on the adapters of q, k, v, o, gate, up and
/// down, the base weights frozen; gradient accumulation over micro-batches; a linear warm-up and
/// decay; the held-out loss every `evalSteps` with the best adapters kept; checkpoints every
/// `saveSteps`. The data order is a seeded shuffle per epoch, so a resumed tune takes exactly
/// the steps the uninterrupted one would have.
public final class LoRATuning {
    public let model: LlamaModel
    public let options: TuningOptions
    public let training: [TrainingSequence]
    public let heldOut: [TrainingSequence]
    private let pass: TrainingPass

    public init(model: LlamaModel, options: TuningOptions, training: [TrainingSequence], heldOut: [TrainingSequence]) throws {
        try options.validate()
        guard !training.isEmpty else { throw TuningError("no training examples") }
        guard training.contains(where: { $0.targetCount > 0 }) else { throw TuningError("no training example has a token to predict") }
        self.model = model
        self.options = options
        self.training = training
        self.heldOut = heldOut
        pass = TrainingPass(model: model)
    }

    public var stepsPerEpoch: Int { (training.count + options.batch - 1) / options.batch }
    public var totalSteps: Int { min(options.maxSteps ?? Int.max, stepsPerEpoch * options.epochs) }

    /// A new tune: fresh adapters (B = 0), nothing learned yet.
    public func start() -> TuningState {
        let lora = LoRA(model: model, rank: options.rank, alpha: options.alpha, seed: options.seed)
        return TuningState(step: 0, lora: lora, optimizer: AdamW(parameters: lora.values.count, weightDecay: options.weightDecay),
                           best: nil, trainingLosses: [], heldOutLosses: [])
    }

    /// The learning rate of step `step` (0-based): linear warm-up to `learningRate` over
    /// `warmupSteps` steps, then linear decay to 0 at `totalSteps`.
    public func learningRate(step: Int) -> Float {
        let warmup = options.warmupSteps, total = totalSteps
        if step < warmup { return options.learningRate * Float(step + 1) / Float(warmup) }
        return options.learningRate * Float(max(0, total - step)) / Float(max(1, total - warmup))
    }

    /// The training examples of step `step`, in order.
    public func examples(step: Int) -> [TrainingSequence] {
        let epoch = step / stepsPerEpoch, within = step % stepsPerEpoch
        var generator = SeededGenerator(seed: options.seed &+ 0x5EED &+ UInt64(epoch) &* 0x9E37_79B9)
        let order = generator.permutation(training.count)
        let start = within * options.batch
        return order[start..<min(start + options.batch, order.count)].map { training[$0] }
    }

    /// The mean held-out loss under `lora`, or nil without held-out data.
    public func heldOutLoss(_ lora: LoRA) -> Double? {
        guard !heldOut.isEmpty else { return nil }
        var sum = 0.0, targets = 0
        for start in stride(from: 0, to: heldOut.count, by: options.microBatch) {
            let loss = pass.loss(Array(heldOut[start..<min(start + options.microBatch, heldOut.count)]), lora: lora)
            sum += loss.sum
            targets += loss.targets
        }
        return targets > 0 ? sum / Double(targets) : nil
    }

    /// One optimizer step: the gradient of the batch's mean loss, accumulated over micro-batches.
    /// Returns the batch's mean training loss and its token count.
    public func step(_ state: inout TuningState) -> (loss: Double, tokens: Int) {
        let batch = examples(step: state.step)
        let targets = batch.reduce(0) { $0 + $1.targetCount }
        var gradient = [Float](repeating: 0, count: state.lora.values.count)
        var lossSum = 0.0
        for start in stride(from: 0, to: batch.count, by: options.microBatch) {
            let micro = Array(batch[start..<min(start + options.microBatch, batch.count)])
            guard micro.contains(where: { $0.targetCount > 0 }) else { continue }
            let result = pass.gradients(micro, target: .adapters, lora: state.lora, scale: 1 / Float(max(1, targets)))
            lossSum += result.lossSum
            for (i, g) in result.adapters!.enumerated() { gradient[i] += g }
        }
        state.optimizer.update(&state.lora.values, gradient: gradient, lr: learningRate(step: state.step))
        state.step += 1
        let mean = lossSum / Double(max(1, targets))
        state.trainingLosses.append((state.step, mean))
        return (mean, batch.reduce(0) { $0 + $1.tokens.count })
    }

    /// Measures the held-out loss and keeps the adapters if they are the best so far.
    public func evaluate(_ state: inout TuningState) -> Double? {
        guard let loss = heldOutLoss(state.lora) else { return nil }
        state.heldOutLosses.append((state.step, loss))
        if state.best == nil || loss < state.best!.loss { state.best = (state.lora.values, loss, state.step) }
        return loss
    }

    /// The adapters to merge at the end: the best by held-out loss, else the last.
    public func final(_ state: TuningState) -> LoRA {
        var lora = state.lora
        if let best = state.best { lora.values = best.values }
        return lora
    }
}
