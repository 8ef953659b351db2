/// How a method prunes besides its scores: how the pruned units are spread over the layers and
/// whether removed units' mean output is kept. Each method has its paper's (`paperSetting`); a
/// `PruningRequest` overrides it field by field.
public struct PruningSetting: Sendable, Equatable {
    public var allocation: Allocation
    /// Whether the removed heads' and channels' mean contribution over the calibration tokens
    /// becomes a bias of o_proj and down_proj (FLAP's compensation; needs calibration statistics).
    public var biasCompensation: Bool

    public init(allocation: Allocation, biasCompensation: Bool) {
        self.allocation = allocation
        self.biasCompensation = biasCompensation
    }

    /// The setting of most methods: uniform allocation, no bias compensation.
    public static let standard = PruningSetting(allocation: .uniform, biasCompensation: false)
}
