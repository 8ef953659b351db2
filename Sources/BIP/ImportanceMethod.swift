import Runtime

/// Importance of the removable units of one decoder layer: one score per query head and one per
/// FFN channel (higher = more important, removed last). Heads and channels need not share a scale.
public struct UnitScores: Sendable, Equatable {
    public var heads: [Double]
    public var channels: [Double]
    /// The scale of the scores, which global allocation must bring to a common one.
    public var scale: ScoreScale

    public init(heads: [Double], channels: [Double], scale: ScoreScale = .raw) {
        self.heads = heads
        self.channels = channels
        self.scale = scale
    }
}

/// The scale of a layer's scores.
public enum ScoreScale: Sendable {
    /// As the method computes them: global allocation standardizes each layer's heads and channels.
    case raw
    /// Already standardized per layer (FLAP's): global allocation compares them as they are.
    case standardized
}

/// How pruned units are spread over the layers (`--allocation`).
public enum Allocation: String, Sendable, CaseIterable, Codable {
    /// Every pruned layer loses the same fraction of its parameters.
    case uniform
    /// FLAP's AL-AM: one threshold over the per-layer standardized scores of all units, weighted by cost.
    case global
    /// One threshold over the scores as the method computes them, not standardized per layer,
    /// weighted by cost (for scores that share one scale across units and layers, as LLM-BIP's).
    case globalRaw = "global-raw"
}

/// A way to score heads and FFN channels. Each method is a small type that says once what it
/// reads (`reads`) and how its paper prunes (`paperSetting`).
public protocol ImportanceMethod: Sendable {
    /// The `--method` name.
    var name: String { get }
    /// What the method reads to score a layer, with the scorer that reads it.
    var reads: ImportanceInput { get }
    /// How the method's paper prunes; a `PruningRequest` may override it field by field.
    var paperSetting: PruningSetting { get }
}

extension ImportanceMethod {
    /// The calibration this method prunes with (when it reads calibration data): `requested` when
    /// given (`--calibration-ids`, `--calibration`), else the calibration its paper uses when that is
    /// not the standard one (LLM-Pruner's), else `standard` (`bip prune`'s, or a sweep's).
    public func calibration(requested: CalibrationSource?, standard: CalibrationSource = .standard) -> CalibrationSource {
        if let requested { return requested }
        if case .gradients(_, let own) = reads { return own }
        return standard
    }
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
