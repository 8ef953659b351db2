import Runtime

extension PruningProvenance {
    /// The provenance of `outcome`, pruned from the model at `sourceModel` (sha256 `sourceSHA256`).
    public init(_ outcome: PruningOutcome, method: String, sparsityRequested: Double, calibration: CalibrationSet?,
                seed: UInt64, sourceModel: String, sourceSHA256: String) {
        self.init(method: method, sparsityRequested: sparsityRequested, sparsityReached: outcome.sparsity,
                  allocation: outcome.setting.allocation.rawValue, layers: outcome.layers,
                  calibration: calibration.map { $0.source.description }, calibrationIsTestData: calibration?.isTestData ?? false,
                  seed: seed, sourceModel: sourceModel, sourceSHA256: sourceSHA256,
                  kept: outcome.plans.mapValues(KeptUnits.init), statistics: outcome.setting.statistics?.rawValue,
                  biasCompensation: outcome.setting.biasCompensation)
    }
}

extension PruningProvenance.KeptUnits {
    /// The units `plan` keeps.
    public init(_ plan: LayerPlan) {
        self.init(queryHeads: plan.keptHeads, ffnChannels: plan.keptChannels)
    }
}
