import Foundation

/// What evaluating one shard of a task measured: each of its items' results with the item's
/// index in the whole task, and the work it took. The outcomes of all shards of a task combine
/// into the task's outcome (`TaskOutcome(task:combining:)`).
public struct ShardOutcome: Sendable {
    public let shard: TaskShard
    /// One per document of the shard, in order; `docIndex` is the document's index in the task.
    public let samples: [TaskOutcome.Sample]
    /// One per window of the shard, in order, each with its index in the corpus.
    public let windows: [TaskOutcome.Window]
    /// Tokens run through the model, and what a naive evaluator runs; both add up over the
    /// items, so the shards' sums are the whole task's.
    public let tokensRun: Int
    public let naiveTokens: Int
    /// Wall time of the shard's evaluation.
    public let seconds: Double

    public init(shard: TaskShard, samples: [TaskOutcome.Sample], windows: [TaskOutcome.Window], tokensRun: Int,
                naiveTokens: Int, seconds: Double) {
        self.shard = shard
        self.samples = samples
        self.windows = windows
        self.tokensRun = tokensRun
        self.naiveTokens = naiveTokens
        self.seconds = seconds
    }
}
