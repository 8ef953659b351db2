/// The items of one task, ready to be evaluated whole or shard by shard: the documents of a
/// zero-shot task, or the windows of a perplexity corpus, after the evaluation's limits. Build
/// them with `TaskEvaluation.items(of:)`.
public struct TaskItems: Sendable {
    /// What the items are.
    public enum Content: Sendable {
        /// A zero-shot task; item `i` is its document `i`.
        case documents(ZeroShotTask)
        /// A corpus's token windows of `seqLen` tokens each; item `i` is window `i`.
        case windows([ArraySlice<Int>], seqLen: Int)
    }

    /// The task's name in `TaskCatalog`.
    public let task: String
    public let content: Content

    public init(task: String, content: Content) {
        self.task = task
        self.content = content
    }

    /// How many items the task has.
    public var count: Int {
        switch content {
        case .documents(let task): return task.documents.count
        case .windows(let windows, _): return windows.count
        }
    }
}
