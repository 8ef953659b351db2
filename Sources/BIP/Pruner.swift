import Foundation
import Runtime

/// What to prune: the method, the fraction of the model's total parameters to remove, how to
/// spread it over the layers, and which layers may be touched.
public struct PruningRequest: Sendable {
    public var method: any ImportanceMethod
    public var sparsity: Double
    /// nil: the method's own (`defaultAllocation`).
    public var allocation: Allocation?
    /// nil: `LayerRange.standard`.
    public var layers: Range<Int>?

    public init(method: any ImportanceMethod, sparsity: Double, allocation: Allocation? = nil, layers: Range<Int>? = nil) {
        self.method = method
        self.sparsity = sparsity
        self.allocation = allocation
        self.layers = layers
    }
}

/// A pruned model and how it came about.
public struct PruningOutcome: Sendable {
    public let model: LlamaModel
    /// Every pruned layer's plan, by layer index.
    public let plans: [Int: LayerPlan]
    /// Every pruned layer's scores, by layer index.
    public let scores: [Int: UnitScores]
    public let allocation: Allocation
    public let layers: Range<Int>
    public let before: ParameterAccounting
    public let after: ParameterAccounting
    /// Seconds per phase, in the order they ran.
    public let seconds: [(phase: String, seconds: Double)]

    /// The fraction of the total parameters removed.
    public var sparsity: Double { 1 - Double(after.total) / Double(before.total) }
    /// The fraction of the attention + MLP parameters removed (FLAP's convention).
    public var attentionAndMLPSparsity: Double { 1 - Double(after.attentionAndMLP) / Double(before.attentionAndMLP) }
}

/// The pruning pipeline: calibration statistics, scores, allocation, physical removal.
public enum Pruner {
    /// Prunes `model`. `statistics`, when given, are the dense calibration statistics of every
    /// layer already taken on `calibration` (they depend on neither method nor sparsity, so a sweep
    /// takes them once); otherwise a method that needs them runs the calibration pass itself.
    public static func prune(_ model: LlamaModel, _ request: PruningRequest, calibration: [[Int]]?,
                             statistics precomputed: [LayerStatistics]? = nil,
                             progress: (String) -> Void = { _ in }) throws -> PruningOutcome {
        var method = request.method
        let range = request.layers ?? LayerRange.standard(layerCount: model.layers.count)
        let allocation = request.allocation ?? method.defaultAllocation
        let before = ParameterAccounting(model)
        let target = request.sparsity * Double(before.total)
        guard request.sparsity > 0, request.sparsity < 1 else {
            throw PruningError("--sparsity \(request.sparsity) must lie strictly between 0 and 1")
        }
        guard !range.isEmpty, range.upperBound <= model.layers.count else {
            throw PruningError("layer range \(range) is empty or outside the model's \(model.layers.count) layers")
        }
        let reachable = Double(range.reduce(0) { $0 + UnitCosts.removable(model.layers[$1]) }) / Double(before.total)
        guard request.sparsity <= reachable else {
            throw PruningError(String(format: "sparsity %.4f cannot be reached by pruning layers %d..<%d: the largest reachable is %.4f (every layer keeping one query head and one FFN channel); widen --layers or lower --sparsity",
                                      request.sparsity, range.lowerBound, range.upperBound, reachable))
        }
        if method.isSequential && allocation != .uniform {
            throw PruningError("\(method.name) allocates uniformly (each layer is pruned before the next layer's statistics are taken); use --allocation uniform")
        }
        if (method.needsCalibration || method.needsGradients) && (calibration ?? []).allSatisfy(\.isEmpty) {
            throw PruningError("\(method.name) needs calibration data, and the calibration set is empty")
        }

        var seconds: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            seconds.append((phase, Date().timeIntervalSince(clock)))
            clock = Date()
        }
        if method.needsGradients {
            method = try method.prepared(for: model, calibration: calibration!, layers: range, progress: progress)
            lap("gradients")
        }

        var scores: [Int: UnitScores] = [:], plans: [Int: LayerPlan] = [:]
        var pruned = model
        if method.isSequential {
            let uniform = UniformAllocation(model: model, range: range, removing: target)
            let runner = LayerwiseRunner(model: model, sequences: calibration!)
            for l in 0..<range.upperBound {
                if range.contains(l) {
                    progress("\(method.name): layer \(l) (statistics after the earlier layers were pruned)")
                    let stats = runner.statistics(of: model.layers[l], index: l)
                    scores[l] = method.scores(layer: model.layers[l], index: l, statistics: stats)
                    plans[l] = uniform.plan(layer: model.layers[l], scores: scores[l]!)
                    pruned.layers[l] = StructuralRemoval.apply(plans[l]!, to: model.layers[l],
                                                               compensating: method.compensatesBias ? stats : nil)
                }
                if l + 1 < range.upperBound { runner.advance(through: pruned.layers[l]) }
            }
            lap("sequential")
        } else {
            var statistics: [Int: LayerStatistics]?
            if method.needsCalibration {
                let all: [LayerStatistics]
                if let precomputed {
                    guard precomputed.count == model.layers.count else {
                        throw PruningError("statistics of \(precomputed.count) layers given for a model of \(model.layers.count)")
                    }
                    all = precomputed
                } else {
                    progress("calibration pass: \(calibration!.count) sequences, \(calibration!.reduce(0) { $0 + $1.count }) tokens")
                    all = try CalibrationPass.statistics(model: model, sequences: calibration!, progress: progress)
                }
                statistics = Dictionary(uniqueKeysWithValues: range.map { ($0, all[$0]) })
                lap("statistics")
            }
            for l in range {
                scores[l] = method.scores(layer: model.layers[l], index: l, statistics: statistics?[l])
            }
            lap("scoring")
            switch allocation {
            case .uniform:
                let uniform = UniformAllocation(model: model, range: range, removing: target)
                for l in range { plans[l] = uniform.plan(layer: model.layers[l], scores: scores[l]!) }
            case .global:
                plans = GlobalAllocation.plans(model: model, scores: scores, removing: target, standardize: !method.isStandardized)
            }
            lap("allocation")
            pruned = StructuralRemoval.apply(plans, to: model, compensating: method.compensatesBias ? statistics : nil)
            lap("removal")
        }
        return PruningOutcome(model: pruned, plans: plans, scores: scores, allocation: allocation, layers: range,
                              before: before, after: ParameterAccounting(pruned), seconds: seconds)
    }
}
