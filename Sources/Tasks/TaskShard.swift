/// A contiguous part of one task's items (its zero-shot documents, or its perplexity windows, in
/// task order) that is evaluated on its own, possibly in another process or on another machine.
/// The items of all shards of a task, combined by `TaskOutcome(task:combining:)`, give the same
/// metrics as the task evaluated whole, bit for bit.
public struct TaskShard: Sendable, Hashable, Codable {
    /// The task's name in `TaskCatalog`.
    public let task: String
    /// The shard's position among the task's shards, from 0.
    public let index: Int
    /// The index of the shard's first item in the task (a document's `docIndex`, a window's index).
    public let first: Int
    /// How many items the shard holds.
    public let count: Int

    public init(task: String, index: Int, first: Int, count: Int) {
        self.task = task
        self.index = index
        self.first = first
        self.count = count
    }

    /// The task indices of the shard's items.
    public var items: Range<Int> { first..<(first + count) }

    /// The shards of a task of `count` items: `shardSize` items each in item order, the last one
    /// holding what is left; no shard for no items. `shardSize` must be at least 1.
    public static func shards(ofTask task: String, count: Int, shardSize: Int) -> [TaskShard] {
        precondition(shardSize > 0, "a shard holds at least one item")
        return stride(from: 0, to: count, by: shardSize).enumerated().map { index, first in
            TaskShard(task: task, index: index, first: first, count: min(shardSize, count - first))
        }
    }
}
