/// Forward throughput and peak memory of one model, as `bip bench` measures them.
public struct ThroughputFigures: Sendable, Equatable {
    public let tokensPerSecond: Double
    public let peakMemoryBytes: Int

    public init(tokensPerSecond: Double, peakMemoryBytes: Int) {
        self.tokensPerSecond = tokensPerSecond
        self.peakMemoryBytes = peakMemoryBytes
    }
}

/// Measures the model at a path (a model file or directory) for about `seconds`. The sweep calls
/// it alternately on the dense and the pruned model so that machine noise cancels in the ratio.
public typealias ThroughputProbe = @Sendable (_ modelPath: String, _ seconds: Double) throws -> ThroughputFigures
