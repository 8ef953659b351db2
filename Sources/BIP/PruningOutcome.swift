import Runtime

/// A pruned model and how it came about.
public struct PruningOutcome: Sendable {
    public let model: LlamaModel
    /// Every pruned layer's plan, by layer index.
    public let plans: [Int: LayerPlan]
    /// Every pruned layer's scores, by layer index.
    public let scores: [Int: UnitScores]
    /// How it was pruned besides the scores: the method's paper setting with the request's overrides.
    public let setting: PruningSetting
    public let layers: Range<Int>
    public let before: ParameterAccounting
    public let after: ParameterAccounting
    /// Seconds per phase, in the order they ran.
    public let seconds: [(phase: String, seconds: Double)]

    /// The fraction of the total parameters removed.
    public var sparsity: Double { 1 - Double(after.total) / Double(before.total) }
    /// The fraction of the attention + MLP parameters removed (FLAP's convention).
    public var attentionAndMLPSparsity: Double { 1 - Double(after.attentionAndMLP) / Double(before.attentionAndMLP) }

    init(_ scope: PruningScope, pruned: LlamaModel, plans: [Int: LayerPlan], scores: [Int: UnitScores], clock: PhaseClock) {
        model = pruned
        self.plans = plans
        self.scores = scores
        setting = scope.setting
        layers = scope.layers
        before = scope.before
        after = ParameterAccounting(pruned)
        seconds = clock.seconds
    }
}
