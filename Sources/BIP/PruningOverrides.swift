/// Where a pruning departs from its method's paper setting (`--allocation`, `--statistics`,
/// `--bias-compensation`, `--layers`); each field nil = the paper's. A sweep job, its stored
/// row, its pruned model's cache key, its gate key and its report label carry these, and a job
/// without any keeps exactly the keys it had before the fields existed.
public struct PruningOverrides: Hashable, Sendable, Codable {
    public var allocation: Allocation?
    public var statistics: StatisticsPass?
    public var biasCompensation: Bool?
    /// nil: `LayerRange.standard`.
    public var layers: LayerSelection?

    public init(allocation: Allocation? = nil, statistics: StatisticsPass? = nil, biasCompensation: Bool? = nil,
                layers: LayerSelection? = nil) {
        (self.allocation, self.statistics, self.biasCompensation, self.layers) = (allocation, statistics, biasCompensation, layers)
    }

    enum CodingKeys: String, CodingKey {
        case allocation, statistics, layers
        case biasCompensation = "bias_compensation"
    }

    /// No departure from the paper setting.
    public var isEmpty: Bool { self == PruningOverrides() }

    /// `paper` with these overrides.
    public func applied(to paper: PruningSetting) -> PruningSetting {
        var setting = paper
        if let allocation { setting.allocation = allocation }
        if let statistics { setting.statistics = statistics }
        if let biasCompensation { setting.biasCompensation = biasCompensation }
        return setting
    }

    /// These overrides without the fields that repeat `paper` (a layer range is kept as given:
    /// the default range depends on the model).
    public func departures(from paper: PruningSetting) -> PruningOverrides {
        PruningOverrides(allocation: allocation == paper.allocation ? nil : allocation,
                         statistics: statistics == paper.statistics ? nil : statistics,
                         biasCompensation: biasCompensation == paper.biasCompensation ? nil : biasCompensation,
                         layers: layers)
    }

    /// Why `method` cannot be pruned with these overrides on any model, nil when it can.
    public func refusal(for method: any ImportanceMethod) -> String? {
        if !method.reads.readsStatistics, statistics != nil || biasCompensation != nil {
            let readers = ImportanceMethods.names.filter { (try? ImportanceMethods.named($0).reads.readsStatistics) == true }
            return "\(method.name) reads no calibration statistics, so --statistics and --bias-compensation do not apply to it "
                + "(they apply to \(readers.joined(separator: ", ")))"
        }
        let setting = applied(to: method.paperSetting)
        if setting.statistics == .sequential, setting.allocation != .uniform {
            return "sequential statistics need --allocation uniform (each layer is pruned before the next layer's statistics "
                + "are taken, so the layers' scores are never all there to compare); \(method.name) with --allocation "
                + "\(setting.allocation.rawValue) needs --statistics one-shot"
        }
        return nil
    }

    /// The departures as a report shows them after the method, e.g. `sequential, bias off`.
    public var label: String {
        var parts: [String] = []
        if let allocation { parts.append(allocation.rawValue) }
        if let statistics { parts.append(statistics.rawValue) }
        if let biasCompensation { parts.append(biasCompensation ? "bias on" : "bias off") }
        if let layers { parts.append("layers \(layers)") }
        return parts.joined(separator: ", ")
    }

    /// The departures as a cache key part, e.g. `statistics=sequential;bias=off`.
    public var key: String {
        var parts: [String] = []
        if let allocation { parts.append("allocation=\(allocation.rawValue)") }
        if let statistics { parts.append("statistics=\(statistics.rawValue)") }
        if let biasCompensation { parts.append("bias=\(biasCompensation ? "on" : "off")") }
        if let layers { parts.append("layers=\(layers)") }
        return parts.joined(separator: ";")
    }
}
