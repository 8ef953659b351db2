import BIP
import Foundation

/// One job of a sweep: the dense model (method `dense`, sparsity 0), one pruned model, or one
/// pruned model then LoRA-tuned.
public struct SweepJobSpec: Hashable, Sendable {
    public let method: String
    public let sparsity: Double
    public let seed: UInt64
    /// The pruned model LoRA-tuned (the paper tables' "w/ tune" rows).
    public let tuned: Bool
    /// Where the pruning departs from the method's paper setting (empty: it does not).
    public let pruning: PruningOverrides

    public init(method: String, sparsity: Double, seed: UInt64, tuned: Bool = false, pruning: PruningOverrides = PruningOverrides()) {
        self.method = method
        self.sparsity = sparsity
        self.seed = seed
        self.tuned = tuned
        self.pruning = pruning
    }

    public static let denseMethod = "dense"
    public static let dense = SweepJobSpec(method: denseMethod, sparsity: 0, seed: 0)

    public var isDense: Bool { method == Self.denseMethod }

    /// This pruned model, then LoRA-tuned.
    public var withTune: SweepJobSpec { SweepJobSpec(method: method, sparsity: sparsity, seed: seed, tuned: true, pruning: pruning) }
    /// The pruned model a tuned variant starts from.
    public var untuned: SweepJobSpec { SweepJobSpec(method: method, sparsity: sparsity, seed: seed, pruning: pruning) }

    /// The method and its tune as recorded in a run's options and a cache recipe: `METHOD` or
    /// `METHOD w/ tune` (the pruning departures are recorded beside it).
    public var methodAndTune: String { tuned ? method + " w/ tune" : method }

    /// The method as reports show it, with its departures from the paper setting and its tune:
    /// `bip`, `bip (sequential, bias on)`, `flap w/ tune`.
    public var methodLabel: String {
        (pruning.isEmpty ? method : "\(method) (\(pruning.label))") + (tuned ? " w/ tune" : "")
    }

    public var label: String { isDense ? "dense" : String(format: "%@ @ %.2f seed %llu", methodLabel, sparsity, seed) }
}
