/// How a pruned model was made, as config.json's `bip` section records it: the method, the
/// sparsity asked for and reached, the allocation, the statistics pass and bias compensation, the
/// pruned layer range, the calibration data, the seed, the source model, and which units of each pruned layer were kept.
public struct PruningProvenance: Sendable, Equatable {
    /// Which of the source layer's units a pruned layer kept (indices into the source layer, ascending).
    public struct KeptUnits: Sendable, Equatable {
        public var queryHeads: [Int]
        public var ffnChannels: [Int]

        public init(queryHeads: [Int], ffnChannels: [Int]) {
            self.queryHeads = queryHeads
            self.ffnChannels = ffnChannels
        }
    }

    public var method: String
    public var sparsityRequested: Double
    public var sparsityReached: Double
    public var allocation: String
    public var layers: Range<Int>
    /// The calibration data's description, nil for a method that needs none.
    public var calibration: String?
    public var calibrationIsTestData: Bool
    public var seed: UInt64
    public var sourceModel: String
    public var sourceSHA256: String
    /// Per pruned layer, which of the source layer's units were kept.
    public var kept: [Int: KeptUnits]
    /// When the calibration statistics were taken (`one-shot`, `sequential`); nil for a method
    /// that reads none, or a directory written before this was recorded.
    public var statistics: String?
    /// Whether removed units' mean output became a bias; nil in a directory written before this was recorded.
    public var biasCompensation: Bool?

    public init(method: String, sparsityRequested: Double, sparsityReached: Double, allocation: String,
                layers: Range<Int>, calibration: String?, calibrationIsTestData: Bool, seed: UInt64,
                sourceModel: String, sourceSHA256: String, kept: [Int: KeptUnits],
                statistics: String? = nil, biasCompensation: Bool? = nil) {
        self.method = method
        self.sparsityRequested = sparsityRequested
        self.sparsityReached = sparsityReached
        self.allocation = allocation
        self.layers = layers
        self.calibration = calibration
        self.calibrationIsTestData = calibrationIsTestData
        self.seed = seed
        self.sourceModel = sourceModel
        self.sourceSHA256 = sourceSHA256
        self.kept = kept
        self.statistics = statistics
        self.biasCompensation = biasCompensation
    }
}
