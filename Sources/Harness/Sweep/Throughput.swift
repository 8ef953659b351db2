import Runtime

/// Forward throughput and peak memory of one model, as `bip bench` measures them, with the rate
/// of a second model (the dense one) run batch by batch in turn with it, when asked.
public struct ThroughputFigures: Sendable, Equatable {
    public let tokensPerSecond: Double
    public let againstTokensPerSecond: Double?
    public let peakMemoryBytes: Int

    public init(tokensPerSecond: Double, againstTokensPerSecond: Double?, peakMemoryBytes: Int) {
        self.tokensPerSecond = tokensPerSecond
        self.againstTokensPerSecond = againstTokensPerSecond
        self.peakMemoryBytes = peakMemoryBytes
    }

    /// The figures of a `bip bench --json` measurement.
    public init(_ report: BenchReport) {
        self.init(tokensPerSecond: report.tokensPerSecond, againstTokensPerSecond: report.against?.tokensPerSecond,
                  peakMemoryBytes: report.peakMemoryBytes)
    }
}

/// Measures the model at a path (a model file or directory) for about `seconds`, in turn with the
/// model at `against` when given, so that machine noise cancels in the ratio, both prepared for
/// `compute`.
public typealias ThroughputProbe = @Sendable (_ modelPath: String, _ against: String?, _ seconds: Double,
                                              _ compute: ComputePrecision) throws -> ThroughputFigures
