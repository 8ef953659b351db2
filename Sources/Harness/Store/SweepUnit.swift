import Foundation
import Tasks

/// What a unit of a sweep job does.
public enum UnitKind: String, Codable, Sendable {
    /// Makes (or finds in the cache) the job's model, records its facts, starts its evaluation
    /// run, and plans the job's other units.
    case model
    /// Measures the model's throughput and memory (`bip bench`, interleaved with the dense model).
    case bench
    /// Evaluates one shard of one task (`TaskShard`); the task's metrics are computed from its
    /// stored documents or windows when its last shard is done.
    case shard
}

/// One unit of work of a sweep job, which one worker claims at a time (`ResultStore.claimUnit`):
/// the job's model, its throughput, or one shard of one of its tasks. A claim holds while its
/// lease (`leaseUntil`, Unix seconds) is renewed; a unit whose lease ran out, or whose worker on
/// this host is gone, is claimed again. Its result is stored in the transaction that checks the
/// claim (`claimToken`), so it is stored once.
public struct SweepUnit: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "sweep_unit"
    static let key = ["id"]
    public var id: Int64?
    public var sweepID: Int64
    public var jobID: Int64
    /// Order within the job: the model unit first, then the bench unit, then the shards in task order.
    public var position: Int
    public var kind: UnitKind
    /// The task of a shard unit.
    public var task: String?
    public var shardIndex: Int?
    /// The shard's items (documents or windows) `itemFirst ..< itemFirst + itemCount`.
    public var itemFirst: Int?
    public var itemCount: Int?
    public var status: JobStatus
    /// Claims so far, an interruption (SIGTERM, Ctrl-C) not counted.
    public var attempts: Int
    public var error: String?
    /// The current claim's token; nil when not claimed.
    public var claimToken: String?
    /// The worker that claimed it last (`WorkerIdentity`): its name, host and process id.
    public var worker: String?
    public var host: String?
    public var pid: Int?
    public var claimedAt: String?
    public var leaseUntil: Double?
    /// What the finished unit took: seconds, and for a shard the tokens run and the tokens a
    /// naive scorer would have run.
    public var seconds: Double?
    public var tokensRun: Int?
    public var naiveTokens: Int?

    public init(id: Int64? = nil, sweepID: Int64, jobID: Int64, position: Int, kind: UnitKind, shard: TaskShard? = nil,
                status: JobStatus = .pending) {
        self.id = id
        self.sweepID = sweepID
        self.jobID = jobID
        self.position = position
        self.kind = kind
        task = shard?.task
        shardIndex = shard?.index
        itemFirst = shard?.first
        itemCount = shard?.count
        self.status = status
        attempts = 0
    }

    /// The shard a shard unit evaluates.
    public var shard: TaskShard? {
        guard let task, let shardIndex, let itemFirst, let itemCount else { return nil }
        return TaskShard(task: task, index: shardIndex, first: itemFirst, count: itemCount)
    }

    /// The unit as progress lines and `bip sweep --status` name it.
    public var label: String {
        switch kind {
        case .model: return "model"
        case .bench: return "throughput"
        case .shard: return "\(task ?? "?") shard \((shardIndex ?? 0) + 1)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, position, kind, task, status, attempts, error, worker, host, pid, seconds
        case sweepID = "sweep_id", jobID = "job_id", shardIndex = "shard_index", itemFirst = "item_first", itemCount = "item_count"
        case claimToken = "claim_token", claimedAt = "claimed_at", leaseUntil = "lease_until"
        case tokensRun = "tokens_run", naiveTokens = "naive_tokens"
    }
}
