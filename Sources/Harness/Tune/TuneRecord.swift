import Gradients
import Runtime

/// What a finished tune records (in the tuned model's config.json under `bip_tune`, and as
/// `bip tune --json` prints it): the data, the options, the split, and the losses; every key is
/// written, a loss not measured as null.
public struct TuneRecord: Encodable, Sendable {
    /// The tuning data's description (`c4:…`, or the Alpaca file).
    public var data: String
    /// `response tokens` or `every token`.
    public var lossOn: String
    public var options: Options
    public var trainingExamples: Int
    public var heldOutExamples: Int
    public var steps: Int
    public var loraParameters: Int
    @WrittenAsNull public var heldOutLossBefore: Double?
    @WrittenAsNull public var bestStep: Int?
    @WrittenAsNull public var bestHeldOutLoss: Double?
    @WrittenAsNull public var trainingLossFirst: Double?
    @WrittenAsNull public var trainingLossLast: Double?
    public var tokensPerSecondThisRun: Double
    /// The path of the model tuned.
    public var tunedFrom: String

    enum CodingKeys: String, CodingKey {
        case data, lossOn = "loss_on", options, trainingExamples = "training_examples", heldOutExamples = "held_out_examples"
        case steps, loraParameters = "lora_parameters", heldOutLossBefore = "held_out_loss_before", bestStep = "best_step"
        case bestHeldOutLoss = "best_held_out_loss", trainingLossFirst = "training_loss_first"
        case trainingLossLast = "training_loss_last", tokensPerSecondThisRun = "tokens_per_second_this_run", tunedFrom = "tuned_from"
    }

    /// The tune's options as recorded: the recipe's fields and, beside them, the held-out
    /// examples asked for (at most a tenth of the data is held out).
    public struct Options: Encodable, Sendable {
        public var tuning: TuningOptions
        public var heldOutRequested: Int

        enum CodingKeys: String, CodingKey { case heldOutRequested = "held_out_requested" }

        public func encode(to encoder: any Encoder) throws {
            try tuning.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(heldOutRequested, forKey: .heldOutRequested)
        }
    }
}
