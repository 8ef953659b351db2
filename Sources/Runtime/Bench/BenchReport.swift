import Foundation

/// The figures of one `bip bench` forward measurement, as `bip bench --json` prints them and a
/// sweep's throughput probe reads them back: the model's rate and peak memory, the rate of the
/// model run in turn with it (`--against`), and the machine's sgemm ceiling when measured (with the
/// packed matmul's rate where the CPU has it).
public struct BenchReport: Codable, Equatable, Sendable {
    public var model: String
    public var seqLen: Int
    public var batch: Int
    public var tokens: Int
    public var seconds: Double
    public var tokensPerSecond: Double
    public var gflopPerToken: Double
    public var gflops: Double
    public var peakMemoryBytes: Int
    public var cores: Int
    /// The model run batch by batch in turn with this one.
    public var against: Against?
    /// `tokensPerSecond` over `against`'s.
    public var speedup: Double?
    public var sgemmGFLOPS: Double?
    public var ceilingTokensPerSecond: Double?
    /// oneDNN's Float32 matmul on the sgemm probe's product, the weights packed once.
    public var packedMatmulGFLOPS: Double?

    /// The second model of an interleaved measurement.
    public struct Against: Codable, Equatable, Sendable {
        public var model: String
        public var tokensPerSecond: Double
        public var gflops: Double

        /// The measurement of the model at `model`.
        public init(model: String, measured: ThroughputBenchmark.Result) {
            (self.model, tokensPerSecond, gflops) = (model, measured.tokensPerSecond, measured.gflopsPerSecond)
        }

        enum CodingKeys: String, CodingKey {
            case model, gflops
            case tokensPerSecond = "tokens_per_second"
        }
    }

    /// The report of `benchmark` run on the model at `model` (`gflopPerToken` each token, peak
    /// memory `peakMemoryBytes`), in turn with `against` when given, with the sgemm ceiling when
    /// measured.
    public init(model: String, benchmark: ThroughputBenchmark, measured: ThroughputBenchmark.Result, gflopPerToken: Double,
                peakMemoryBytes: Int, against: Against? = nil, sgemmGFLOPS: Double? = nil, packedMatmulGFLOPS: Double? = nil) {
        (self.model, seqLen, batch) = (model, benchmark.seqLen, benchmark.batch)
        (tokens, seconds, tokensPerSecond, gflops) = (measured.tokens, measured.elapsed, measured.tokensPerSecond, measured.gflopsPerSecond)
        (self.gflopPerToken, self.peakMemoryBytes, cores) = (gflopPerToken, peakMemoryBytes, ProcessInfo.processInfo.activeProcessorCount)
        (self.against, speedup) = (against, against.map { measured.tokensPerSecond / $0.tokensPerSecond })
        (self.sgemmGFLOPS, ceilingTokensPerSecond) = (sgemmGFLOPS, sgemmGFLOPS.map { $0 / gflopPerToken })
        self.packedMatmulGFLOPS = packedMatmulGFLOPS
    }

    enum CodingKeys: String, CodingKey {
        case model, batch, tokens, seconds, gflops, cores, against, speedup
        case seqLen = "seq_len", tokensPerSecond = "tokens_per_second", gflopPerToken = "gflop_per_token"
        case peakMemoryBytes = "peak_memory_bytes", sgemmGFLOPS = "sgemm_gflops", ceilingTokensPerSecond = "ceiling_tokens_per_second"
        case packedMatmulGFLOPS = "packed_matmul_gflops"
    }

    /// Sorted-key JSON on one line, slashes unescaped (what `bip bench --json` prints).
    public var json: String { sortedKeyJSON() }
}
