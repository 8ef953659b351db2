import Runtime

/// Importance of the removable units of one decoder layer: one score per query head and one per
/// FFN channel (higher = more important, removed last). Heads and channels need not share a scale.
public struct UnitScores: Sendable, Equatable {
    public var heads: [Double]
    public var channels: [Double]

    public init(heads: [Double], channels: [Double]) {
        self.heads = heads
        self.channels = channels
    }
}

/// How pruned units are spread over the layers (`--allocation`).
public enum Allocation: String, Sendable, CaseIterable {
    /// Every pruned layer loses the same fraction of its parameters.
    case uniform
    /// FLAP's AL-AM: one threshold over the per-layer standardized scores of all units, weighted by cost.
    case global
}

/// A way to score heads and FFN channels. Each method is a small type; the pipeline asks it what
/// it needs (calibration statistics, sequential recomputation) and how it prunes by default.
public protocol ImportanceMethod: Sendable {
    /// The `--method` name.
    var name: String { get }
    /// Whether `scores` reads calibration statistics (false: weights only, no forward pass).
    var needsCalibration: Bool { get }
    /// Whether each layer's statistics must be taken after the earlier layers were pruned.
    var isSequential: Bool { get }
    /// The allocation the method's paper uses.
    var defaultAllocation: Allocation { get }
    /// Whether removed channels' mean contribution becomes a bias of o_proj / down_proj.
    var compensatesBias: Bool { get }
    /// Whether the scores are already standardized per layer (global allocation uses them as they are).
    var isStandardized: Bool { get }
    /// Whether the scores come from gradients of the calibration loss (LLM-Pruner's): the method
    /// is then `prepared` with the whole model before any layer is scored.
    var needsGradients: Bool { get }
    /// The calibration the method's paper uses, when it is not the standard one.
    var ownCalibration: CalibrationSource? { get }
    /// The scores of layer `index`; `statistics` is nil when `needsCalibration` is false.
    func scores(layer: DecoderLayer, index: Int, statistics: LayerStatistics?) -> UnitScores
    /// The method ready to score `layers` of `model`: a gradient method computes its gradients on
    /// `calibration` here; the others are ready as they are.
    func prepared(for model: LlamaModel, calibration: [[Int]], layers: Range<Int>,
                  progress: (String) -> Void) throws -> any ImportanceMethod
}

extension ImportanceMethod {
    public var isSequential: Bool { false }
    public var defaultAllocation: Allocation { .uniform }
    public var compensatesBias: Bool { false }
    public var isStandardized: Bool { false }
    public var needsGradients: Bool { false }
    public var ownCalibration: CalibrationSource? { nil }
    public func prepared(for model: LlamaModel, calibration: [[Int]], layers: Range<Int>,
                         progress: (String) -> Void) throws -> any ImportanceMethod { self }
}

/// The methods `bip prune` knows, by name.
public enum ImportanceMethods {
    public static let names = ["bip", "bip-local", "bip-gate", "bip-norm", "wanda-sp", "flap",
                               "magnitude-l1", "magnitude-l2", "random",
                               "llm-pruner-element1", "llm-pruner-element2", "llm-pruner-vector"]

    /// The method called `name`; `seed` drives `random`.
    public static func named(_ name: String, seed: UInt64 = 0) throws -> any ImportanceMethod {
        switch name {
        case "bip": return BIPImportance(variant: .standard)
        case "bip-local": return BIPImportance(variant: .local)
        case "bip-gate": return BIPImportance(variant: .gate)
        case "bip-norm": return BIPImportance(variant: .norm)
        case "wanda-sp": return WandaSPImportance()
        case "flap": return FLAPImportance()
        case "magnitude-l1": return MagnitudeImportance(norm: .l1)
        case "magnitude-l2": return MagnitudeImportance(norm: .l2)
        case "random": return RandomImportance(seed: seed)
        case "llm-pruner-element1": return LLMPrunerImportance(variant: .element1)
        case "llm-pruner-element2": return LLMPrunerImportance(variant: .element2)
        case "llm-pruner-vector": return LLMPrunerImportance(variant: .vector)
        default:
            throw PruningError("unknown method '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }
}
