import Gradients

/// What a finished tune records (in the tuned model's config.json under `bip_tune`, and as
/// `bip tune --json` prints it): the data, the options, the split, and the losses.
public struct TuneRecord: Encodable, Sendable {
    /// The tuning data's description (`c4:…`, or the Alpaca file).
    public var data: String
    /// `response tokens` or `every token`.
    public var lossOn: String
    public var options: TuningOptions
    /// Held-out examples asked for (at most a tenth of the data is held out).
    public var heldOutRequested: Int
    public var trainingExamples: Int
    public var heldOutExamples: Int
    public var steps: Int
    public var loraParameters: Int
    public var heldOutLossBefore: Double?
    public var bestStep: Int?
    public var bestHeldOutLoss: Double?
    public var trainingLossFirst: Double?
    public var trainingLossLast: Double?
    public var tokensPerSecondThisRun: Double
    /// The path of the model tuned.
    public var tunedFrom: String

    enum CodingKeys: String, CodingKey {
        case data, lossOn = "loss_on", options, trainingExamples = "training_examples", heldOutExamples = "held_out_examples"
        case steps, loraParameters = "lora_parameters", heldOutLossBefore = "held_out_loss_before", bestStep = "best_step"
        case bestHeldOutLoss = "best_held_out_loss", trainingLossFirst = "training_loss_first"
        case trainingLossLast = "training_loss_last", tokensPerSecondThisRun = "tokens_per_second_this_run", tunedFrom = "tuned_from"
    }

    enum OptionKeys: String, CodingKey { case heldOutRequested = "held_out_requested" }

    /// Every key is written, a loss not measured as null; `options` also holds `held_out_requested`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(lossOn, forKey: .lossOn)
        let optionsEncoder = c.superEncoder(forKey: .options)
        try options.encode(to: optionsEncoder)
        var extra = optionsEncoder.container(keyedBy: OptionKeys.self)
        try extra.encode(heldOutRequested, forKey: .heldOutRequested)
        try c.encode(trainingExamples, forKey: .trainingExamples)
        try c.encode(heldOutExamples, forKey: .heldOutExamples)
        try c.encode(steps, forKey: .steps)
        try c.encode(loraParameters, forKey: .loraParameters)
        try c.encode(heldOutLossBefore, forKey: .heldOutLossBefore)
        try c.encode(bestStep, forKey: .bestStep)
        try c.encode(bestHeldOutLoss, forKey: .bestHeldOutLoss)
        try c.encode(trainingLossFirst, forKey: .trainingLossFirst)
        try c.encode(trainingLossLast, forKey: .trainingLossLast)
        try c.encode(tokensPerSecondThisRun, forKey: .tokensPerSecondThisRun)
        try c.encode(tunedFrom, forKey: .tunedFrom)
    }
}
