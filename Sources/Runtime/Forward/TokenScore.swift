/// How a model scored one target token: its log-probability, and whether it is the greedy token
/// (the first index of the largest logit, as `argmax` picks it; lm-evaluation-harness's `is_greedy`).
public struct TokenScore: Sendable, Equatable {
    public let logProbability: Double
    public let isGreedy: Bool

    public init(logProbability: Double, isGreedy: Bool) {
        self.logProbability = logProbability
        self.isGreedy = isGreedy
    }
}
