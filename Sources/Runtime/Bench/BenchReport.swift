import Foundation

/// The figures of one `bip bench` forward measurement, as `bip bench --json` prints them and a
/// sweep's throughput probe reads them back: the model's rate and peak memory, the rate of the
/// model run in turn with it (`--against`), and the machine's sgemm ceiling when measured.
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

    /// The second model of an interleaved measurement.
    public struct Against: Codable, Equatable, Sendable {
        public var model: String
        public var tokensPerSecond: Double
        public var gflops: Double

        public init(model: String, tokensPerSecond: Double, gflops: Double) {
            self.model = model
            self.tokensPerSecond = tokensPerSecond
            self.gflops = gflops
        }

        enum CodingKeys: String, CodingKey {
            case model, gflops
            case tokensPerSecond = "tokens_per_second"
        }
    }

    public init(model: String, seqLen: Int, batch: Int, tokens: Int, seconds: Double, tokensPerSecond: Double,
                gflopPerToken: Double, gflops: Double, peakMemoryBytes: Int, cores: Int, against: Against? = nil,
                speedup: Double? = nil, sgemmGFLOPS: Double? = nil, ceilingTokensPerSecond: Double? = nil) {
        self.model = model
        self.seqLen = seqLen
        self.batch = batch
        self.tokens = tokens
        self.seconds = seconds
        self.tokensPerSecond = tokensPerSecond
        self.gflopPerToken = gflopPerToken
        self.gflops = gflops
        self.peakMemoryBytes = peakMemoryBytes
        self.cores = cores
        self.against = against
        self.speedup = speedup
        self.sgemmGFLOPS = sgemmGFLOPS
        self.ceilingTokensPerSecond = ceilingTokensPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case model, batch, tokens, seconds, gflops, cores, against, speedup
        case seqLen = "seq_len", tokensPerSecond = "tokens_per_second", gflopPerToken = "gflop_per_token"
        case peakMemoryBytes = "peak_memory_bytes", sgemmGFLOPS = "sgemm_gflops", ceilingTokensPerSecond = "ceiling_tokens_per_second"
    }

    /// Sorted-key JSON on one line, slashes unescaped (what `bip bench --json` prints).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
