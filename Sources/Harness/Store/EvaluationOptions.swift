import BIP
import Foundation
import Runtime
import Tasks

/// How an evaluation run was made, stored as its `options` (sorted-key JSON): the tasks, the
/// limit, the perplexity window, the data directory and the compute precision, and for a sweep's
/// run what it evaluated.
public struct EvaluationOptions: Codable, Equatable, Sendable {
    public var tasks: [String]
    /// The first N documents / windows of each task; nil (stored as null): all.
    public var limit: Int?
    /// The first N documents of each zero-shot task (every perplexity window); nil (not stored)
    /// when not set, so such a run's options read as before it existed.
    public var documentLimit: Int?
    public var seqLen: Int
    public var data: String
    /// The arithmetic of the model's projections; nil (not stored): `fp32`, so such a run's
    /// options read as before it existed.
    public var compute: ComputePrecision?
    /// Present when the run is a sweep's job.
    public var sweep: Sweep?

    /// The sweep job a run evaluates: its sweep, pruning and source model.
    public struct Sweep: Codable, Equatable, Sendable {
        public var name: String
        /// The job's method and tune (`dense`, `bip`, `bip w/ tune`; `SweepJobSpec.methodAndTune`).
        public var method: String
        public var sparsity: Double
        public var seed: UInt64
        public var sourceSHA256: String
        public var evalProtocol: EvalProtocol
        /// The calibration the model was pruned with; nil (stored as null) for the dense model.
        @WrittenAsNull public var calibration: String?
        /// The recovery tune of a tuned variant; nil (stored as null) otherwise.
        @WrittenAsNull public var tune: SweepTune?
        /// The pruning's departures from the method's paper setting; nil (not stored) when it
        /// has none, so such a run's options read as before they existed.
        public var pruning: PruningOverrides?

        enum CodingKeys: String, CodingKey {
            case method, sparsity, seed, calibration, tune, pruning
            case name = "sweep", sourceSHA256 = "source_sha256", evalProtocol = "protocol"
        }
    }

    public init(tasks: [String], limit: Int?, documentLimit: Int? = nil, seqLen: Int, data: String,
                compute: ComputePrecision = .fp32, sweep: Sweep? = nil) {
        (self.tasks, self.limit, self.documentLimit, self.seqLen, self.data, self.sweep) = (tasks, limit, documentLimit, seqLen, data, sweep)
        self.compute = compute == .fp32 ? nil : compute
    }

    enum CodingKeys: String, CodingKey {
        case tasks, limit, data, sweep, compute
        case seqLen = "seq_len", documentLimit = "document_limit"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tasks = try c.decode([String].self, forKey: .tasks)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        documentLimit = try c.decodeIfPresent(Int.self, forKey: .documentLimit)
        seqLen = try c.decode(Int.self, forKey: .seqLen)
        data = try c.decode(String.self, forKey: .data)
        compute = try c.decodeIfPresent(ComputePrecision.self, forKey: .compute)
        sweep = c.contains(.sweep) ? try Sweep(from: decoder) : nil
    }

    /// The sweep's fields sit beside the run's own, in one JSON object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(limit, forKey: .limit)
        try c.encodeIfPresent(documentLimit, forKey: .documentLimit)
        try c.encode(seqLen, forKey: .seqLen)
        try c.encode(data, forKey: .data)
        try c.encodeIfPresent(compute, forKey: .compute)
        try sweep?.encode(to: encoder)
    }

    /// The options as stored: sorted-key JSON.
    public var json: String { sortedKeyJSON(escapingSlashes: true) }
}
