import Runtime

/// The pruning pipeline: calibration statistics or gradients, scores, allocation, physical removal.
public enum Pruner {
    /// Prunes `model`. `statistics`, when given, are the dense calibration statistics of every
    /// layer already taken on `calibration` (they depend on neither method nor sparsity, so a sweep
    /// takes them once); otherwise a method that reads them runs the calibration pass itself.
    public static func prune(_ model: LlamaModel, _ request: PruningRequest, calibration: [[Int]]?,
                             statistics precomputed: [LayerStatistics]? = nil,
                             progress: (String) -> Void = { _ in }) throws -> PruningOutcome {
        let scope = try PruningScope(request, model: model, calibration: calibration)
        var clock = PhaseClock()
        switch request.method.reads {
        case .weights(let scorer):
            return pruneOneShot(scope, statistics: nil, clock: &clock) { scorer.scores(layer: model.layers[$0], index: $0) }
        case .statistics(let scorer) where scope.setting.statistics == .oneShot:
            let statistics = try denseStatistics(scope, precomputed: precomputed, progress: progress)
            clock.lap("statistics")
            return pruneOneShot(scope, statistics: statistics, clock: &clock) {
                scorer.scores(layer: model.layers[$0], index: $0, statistics: statistics[$0]!)
            }
        case .statistics(let scorer):
            return pruneSequentially(scope, scorer: scorer, clock: &clock, progress: progress)
        case .gradients(let scorer, _):
            let scores = try scorer.scores(model: model, calibration: scope.calibration, layers: scope.layers, progress: progress)
            clock.lap("gradients")
            return pruneOneShot(scope, statistics: nil, clock: &clock) { scores[$0]! }
        }
    }

    /// Every pruned layer's statistics on the dense model: `precomputed` when given, else taken
    /// in one calibration pass.
    static func denseStatistics(_ scope: PruningScope, precomputed: [LayerStatistics]?,
                                progress: (String) -> Void) throws -> [Int: LayerStatistics] {
        let model = scope.model, calibration = scope.calibration
        let all: [LayerStatistics]
        if let precomputed {
            guard precomputed.count == model.layers.count else {
                throw PruningError("statistics of \(precomputed.count) layers given for a model of \(model.layers.count)")
            }
            all = precomputed
        } else {
            progress("calibration pass: \(calibration.count) sequences, \(calibration.reduce(0) { $0 + $1.count }) tokens")
            all = try CalibrationPass.statistics(model: model, sequences: calibration, progress: progress)
        }
        return Dictionary(uniqueKeysWithValues: scope.layers.map { ($0, all[$0]) })
    }

    /// One-shot pruning: every layer of the scope scored on the dense model (`score(l)`), the
    /// removed units allocated over the layers, then removed (compensating with `statistics` when
    /// the setting says so).
    static func pruneOneShot(_ scope: PruningScope, statistics: [Int: LayerStatistics]?, clock: inout PhaseClock,
                             score: (Int) -> UnitScores) -> PruningOutcome {
        let scores = Dictionary(uniqueKeysWithValues: scope.layers.map { ($0, score($0)) })
        clock.lap("scoring")
        let plans = allocate(scope, scores: scores)
        clock.lap("allocation")
        let pruned = StructuralRemoval.apply(plans, to: scope.model,
                                             compensating: scope.setting.biasCompensation ? statistics : nil)
        clock.lap("removal")
        return PruningOutcome(scope, pruned: pruned, plans: plans, scores: scores, clock: clock)
    }

    /// Every scored layer's plan under the scope's allocation.
    static func allocate(_ scope: PruningScope, scores: [Int: UnitScores]) -> [Int: LayerPlan] {
        switch scope.setting.allocation {
        case .uniform:
            let uniform = UniformAllocation(model: scope.model, range: scope.layers, removing: scope.target)
            return Dictionary(uniqueKeysWithValues: scores.map { l, s in (l, uniform.plan(layer: scope.model.layers[l], scores: s)) })
        case .global, .globalRaw:
            return GlobalAllocation.plans(model: scope.model, scores: scores, removing: scope.target,
                                          standardizing: scope.setting.allocation == .global)
        }
    }

    /// Sequential pruning (Wanda-sp's): layer by layer, the statistics are taken on the calibration
    /// stream after the earlier layers were pruned, and the layer is scored, planned (uniformly)
    /// and pruned before the stream moves through it.
    static func pruneSequentially(_ scope: PruningScope, scorer: any StatisticsScorer, clock: inout PhaseClock,
                                  progress: (String) -> Void) -> PruningOutcome {
        let model = scope.model, range = scope.layers
        let uniform = UniformAllocation(model: model, range: range, removing: scope.target)
        let runner = LayerwiseRunner(model: model, sequences: scope.calibration)
        var scores: [Int: UnitScores] = [:], plans: [Int: LayerPlan] = [:]
        var pruned = model
        for l in 0..<range.upperBound {
            if range.contains(l) {
                progress("\(scope.method.name): layer \(l) (statistics after the earlier layers were pruned)")
                let stats = runner.statistics(of: model.layers[l], index: l)
                scores[l] = scorer.scores(layer: model.layers[l], index: l, statistics: stats)
                plans[l] = uniform.plan(layer: model.layers[l], scores: scores[l]!)
                pruned.layers[l] = StructuralRemoval.apply(plans[l]!, to: model.layers[l],
                                                           compensating: scope.setting.biasCompensation ? stats : nil)
            }
            if l + 1 < range.upperBound { runner.advance(through: pruned.layers[l]) }
        }
        clock.lap("sequential")
        return PruningOutcome(scope, pruned: pruned, plans: plans, scores: scores, clock: clock)
    }
}
