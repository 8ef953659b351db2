import Runtime

/// How a model scored one choice's continuation: the sum of its tokens' log-probabilities, and
/// whether every one of them is the greedy token (lm-evaluation-harness's `(loglikelihood, is_greedy)`).
public struct ContinuationScore: Sendable, Equatable {
    public var loglikelihood: Double
    public var isGreedy: Bool

    public init(loglikelihood: Double, isGreedy: Bool) {
        self.loglikelihood = loglikelihood
        self.isGreedy = isGreedy
    }

    /// Adds the next scored token of the continuation.
    mutating func add(_ token: TokenScore) {
        loglikelihood += token.logProbability
        isGreedy = isGreedy && token.isGreedy
    }
}
