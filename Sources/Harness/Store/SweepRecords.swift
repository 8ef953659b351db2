import BIP
import Foundation

/// A named sweep and the configuration it was planned from (sorted-key JSON of `SweepConfig`).
public struct SweepRecord: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "sweep"
    static let key = ["id"]
    public var id: Int64?
    public var name: String
    public var config: String
    public var createdAt: String

    public init(id: Int64? = nil, name: String, config: String, createdAt: String) {
        self.id = id
        self.name = name
        self.config = config
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, config
        case createdAt = "created_at"
    }
}

/// Where a sweep job stands.
public enum JobStatus: String, Codable, Sendable {
    case pending, running, done, failed
}

/// One job of a sweep (the dense model, or one method × sparsity × seed): its state, the model
/// it made, its evaluation run, and the efficiency measured on that model.
public struct SweepJob: StoredRecord, Sendable, Equatable {
    public static let databaseTableName = "sweep_job"
    static let key = ["id"]
    public var id: Int64?
    public var sweepID: Int64
    /// Order in the plan.
    public var position: Int
    /// `dense`, or the importance method.
    public var method: String
    public var sparsity: Double
    public var seed: Int64
    /// The pruned model LoRA-tuned (the paper tables' "w/ tune" rows).
    public var tuned: Bool
    /// The pruning's departures from the method's paper setting (`PruningOverrides`); each nil
    /// (NULL): the paper's.
    public var allocation: Allocation?
    public var statistics: StatisticsPass?
    public var biasCompensation: Bool?
    public var layers: LayerSelection?
    public var status: JobStatus
    public var error: String?
    public var attempts: Int
    /// The model evaluated: the source model, or the pruned model's cache directory.
    public var modelPath: String?
    public var evalRunID: Int64?
    /// The hash of the units its model removed (`PruningProvenance.removalPlanHash`; for a tuned
    /// variant, with the tune recipe): jobs with equal hashes made the same model, evaluated once.
    /// Nil for the dense model and before the model is made.
    public var planHash: String?
    /// The pruning's facts (sparsity reached, per-layer shapes, seconds), stored as JSON.
    public var pruneDetail: PruneDetail?
    public var parameters: Int?
    /// Multiply-accumulates per token at 128 tokens of context, from the shapes.
    public var macsPerToken: Double?
    public var peakMemoryBytes: Int?
    public var tokensPerSecond: Double?
    /// The dense model's rate measured interleaved with this model's, so machine noise cancels.
    public var denseTokensPerSecond: Double?

    public init(id: Int64? = nil, sweepID: Int64, position: Int, method: String, sparsity: Double, seed: Int64, tuned: Bool = false,
                pruning: PruningOverrides = PruningOverrides(), status: JobStatus = .pending, error: String? = nil, attempts: Int = 0, modelPath: String? = nil,
                evalRunID: Int64? = nil, planHash: String? = nil, pruneDetail: PruneDetail? = nil, parameters: Int? = nil, macsPerToken: Double? = nil,
                peakMemoryBytes: Int? = nil, tokensPerSecond: Double? = nil, denseTokensPerSecond: Double? = nil) {
        self.id = id
        self.sweepID = sweepID
        self.position = position
        self.method = method
        self.sparsity = sparsity
        self.seed = seed
        self.tuned = tuned
        allocation = pruning.allocation
        statistics = pruning.statistics
        biasCompensation = pruning.biasCompensation
        layers = pruning.layers
        self.status = status
        self.error = error
        self.attempts = attempts
        self.modelPath = modelPath
        self.evalRunID = evalRunID
        self.planHash = planHash
        self.pruneDetail = pruneDetail
        self.parameters = parameters
        self.macsPerToken = macsPerToken
        self.peakMemoryBytes = peakMemoryBytes
        self.tokensPerSecond = tokensPerSecond
        self.denseTokensPerSecond = denseTokensPerSecond
    }

    /// Throughput against the dense model's, measured interleaved.
    public var speedup: Double? {
        guard let tokensPerSecond, let denseTokensPerSecond, denseTokensPerSecond > 0 else { return nil }
        return tokensPerSecond / denseTokensPerSecond
    }

    /// How far a measured speed-up may exceed the ratio of MACs per token before it is
    /// implausible: the benchmark's own noise between interleaved rounds stays well inside it.
    public static let speedupAllowance = 1.15

    /// Whether a pruned model's speed-up cannot come from its smaller arithmetic: below 1, or more
    /// than `speedupAllowance` × the dense model's MACs per token over its own. A benchmark that
    /// shared the machine with other work gives such values. False without a speed-up; without
    /// the MACs, only a speed-up below 1 is implausible.
    public static func isImplausible(speedup: Double?, macsPerToken: Double?, denseMACsPerToken: Double?) -> Bool {
        guard let speedup else { return false }
        if speedup < 1 { return true }
        guard let macsPerToken, let denseMACsPerToken, macsPerToken > 0 else { return false }
        return speedup > speedupAllowance * denseMACsPerToken / macsPerToken
    }

    /// What the job runs.
    public var spec: SweepJobSpec {
        SweepJobSpec(method: method, sparsity: sparsity, seed: UInt64(bitPattern: seed), tuned: tuned, pruning: pruning)
    }

    /// The pruning's departures from the method's paper setting.
    public var pruning: PruningOverrides {
        PruningOverrides(allocation: allocation, statistics: statistics, biasCompensation: biasCompensation, layers: layers)
    }

    public var isDense: Bool { method == SweepJobSpec.denseMethod }

    /// The method as reports show it: `METHOD (DEPARTURES) w/ tune` (`SweepJobSpec.methodLabel`).
    public var methodLabel: String { spec.methodLabel }

    enum CodingKeys: String, CodingKey {
        case id, position, method, sparsity, seed, tuned, status, error, attempts, parameters, allocation, statistics, layers
        case biasCompensation = "bias_compensation"
        case sweepID = "sweep_id", modelPath = "model_path", evalRunID = "eval_run_id", planHash = "plan_hash", pruneDetail = "prune_detail"
        case macsPerToken = "macs_per_token", peakMemoryBytes = "peak_memory_bytes"
        case tokensPerSecond = "tokens_per_second", denseTokensPerSecond = "dense_tokens_per_second"
    }
}
