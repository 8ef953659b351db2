/// How a method prunes besides its scores: how the pruned units are spread over the layers,
/// whether removed units' mean output is kept, and when calibration statistics are taken. Each
/// method has its paper's (`paperSetting`); a `PruningRequest` overrides it field by field
/// (`PruningOverrides`).
public struct PruningSetting: Sendable, Equatable {
    public var allocation: Allocation
    /// Whether the removed heads' and channels' mean contribution over the calibration tokens
    /// becomes a bias of o_proj and down_proj (FLAP's compensation; needs calibration statistics).
    public var biasCompensation: Bool
    /// When each layer's calibration statistics are taken; nil for a method that reads none.
    public var statistics: StatisticsPass?

    public init(allocation: Allocation, biasCompensation: Bool, statistics: StatisticsPass?) {
        self.allocation = allocation
        self.biasCompensation = biasCompensation
        self.statistics = statistics
    }

    /// The setting of the methods that read no calibration statistics: uniform allocation, no
    /// bias compensation.
    public static let standard = PruningSetting(allocation: .uniform, biasCompensation: false, statistics: nil)
}
