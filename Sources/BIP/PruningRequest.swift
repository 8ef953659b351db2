import Runtime

/// What to prune: the method, the fraction of the model's total parameters to remove, and where
/// the method's paper setting and the default layer range are overridden.
public struct PruningRequest: Sendable {
    public var method: any ImportanceMethod
    public var sparsity: Double
    public var overrides: PruningOverrides

    public init(method: any ImportanceMethod, sparsity: Double, overrides: PruningOverrides = PruningOverrides()) {
        self.method = method
        self.sparsity = sparsity
        self.overrides = overrides
    }

    /// The method's paper setting with this request's overrides.
    public var setting: PruningSetting { overrides.applied(to: method.paperSetting) }

    /// Whether pruning reads the dense model's statistics, taken in one pass (and so shareable
    /// across methods and sparsities).
    public var readsDenseStatistics: Bool { method.reads.readsStatistics && setting.statistics == .oneShot }
}

/// A request checked against a model and its calibration data: the layers it prunes, the
/// parameters it removes, and how.
struct PruningScope {
    let model: LlamaModel
    let method: any ImportanceMethod
    let layers: Range<Int>
    let setting: PruningSetting
    let before: ParameterAccounting
    /// The parameters to remove.
    let target: Double
    /// The calibration sequences (empty when the method reads none).
    let calibration: [[Int]]

    /// Throws a `PruningError` saying what is possible when `request` cannot be carried out.
    init(_ request: PruningRequest, model: LlamaModel, calibration: [[Int]]?) throws {
        if let refusal = request.overrides.refusal(for: request.method) { throw PruningError(refusal) }
        let range = try request.overrides.layers?.range(layerCount: model.layers.count) ?? LayerRange.standard(layerCount: model.layers.count)
        let setting = request.setting
        let before = ParameterAccounting(model)
        guard request.sparsity > 0, request.sparsity < 1 else {
            throw PruningError("--sparsity \(request.sparsity) must lie strictly between 0 and 1")
        }
        guard !range.isEmpty, range.upperBound <= model.layers.count else {
            throw PruningError("layer range \(range) is empty or outside the model's \(model.layers.count) layers")
        }
        let reachable = Double(range.reduce(0) { $0 + UnitCosts.removable(model.layers[$1]) }) / Double(before.total)
        guard request.sparsity <= reachable else {
            throw PruningError(String(format: "sparsity %.4f cannot be reached by pruning layers %d..<%d: the largest reachable is %.4f (every layer keeping one query head and one FFN channel); widen --layers or lower --sparsity",
                                      request.sparsity, range.lowerBound, range.upperBound, reachable))
        }
        let method = request.method
        if method.reads.readsCalibration && (calibration ?? []).allSatisfy(\.isEmpty) {
            throw PruningError("\(method.name) needs calibration data, and the calibration set is empty")
        }
        self.model = model
        self.method = method
        layers = range
        self.setting = setting
        self.before = before
        target = request.sparsity * Double(before.total)
        self.calibration = calibration ?? []
    }
}
