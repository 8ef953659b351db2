import Foundation
import Gradients

/// The LoRA recovery tune a sweep gives every pruned model (`bip sweep --tune`): the data
/// (`c4` or an Alpaca JSONL path), the held-out size and the recipe.
public struct SweepTune: Codable, Equatable, Sendable {
    public var data: String
    public var heldOut: Int
    public var options: TuningOptions

    public init(data: String = "c4", heldOut: Int = 2000, options: TuningOptions = TuningOptions()) {
        self.data = data
        self.heldOut = heldOut
        self.options = options
    }

    enum CodingKeys: String, CodingKey {
        case data, options
        case heldOut = "held_out"
    }

    /// Sorted-key JSON, as stored with each tuned run and in the tuned model's cache key.
    public var json: String { sortedKeyJSON() }
}
