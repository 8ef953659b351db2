import BIP
import Foundation
import Gradients
import Runtime
import Tasks

/// The models of a sweep's jobs: the source (dense) model, loaded and hashed once; each pruned
/// model and each tuned variant from the pruned-model cache, or made now and cached. The
/// calibration draw of one source × seed, and its dense statistics, are made once and shared by
/// every method and sparsity.
final class SweepModels {
    let config: SweepConfig
    let data: DataDirectory
    let cache: PrunedModelCache
    let sweepName: String
    let progress: (String) -> Void
    private var source: (loaded: LoadedModel, sha256: String)?
    private var calibrations: [String: (set: CalibrationSet, statistics: [LayerStatistics]?)] = [:]
    private var tuningData: TuningData?

    init(config: SweepConfig, data: DataDirectory, cache: PrunedModelCache, sweepName: String, progress: @escaping (String) -> Void) {
        self.config = config
        self.data = data
        self.cache = cache
        self.sweepName = sweepName
        self.progress = progress
    }

    /// The source model and the sha256 of its file.
    func dense() throws -> (loaded: LoadedModel, sha256: String) {
        if let source { return source }
        let loaded = try LoadedModel.load(config.model, progress: progress)
        progress("hashing \(loaded.weightsFile)")
        let loadedSource = (loaded, try loaded.fileSHA256())
        source = loadedSource
        return loadedSource
    }

    /// The model of `spec`. For a pruned or tuned model, `detail` is set to its shapes and
    /// counts, with the seconds it took when made now; a model from the cache only fills a
    /// missing `detail` (without seconds).
    func model(_ spec: SweepJobSpec, detail: inout PruneDetail?) throws -> LoadedModel {
        if spec.isDense { return try dense().loaded }
        return spec.tuned ? try tunedModel(spec, detail: &detail) : try prunedModel(spec, detail: &detail)
    }

    /// The calibration a method is pruned with (its paper's own, LLM-Pruner's 10 × 64, or the
    /// sweep's); nil for the dense model.
    func calibration(of spec: SweepJobSpec) throws -> String? {
        guard !spec.isDense else { return nil }
        return try ImportanceMethods.named(spec.method)
            .calibration(requested: nil, standard: CalibrationSource(parsing: config.calibration)).description
    }

    /// The pruned model of `spec`, pruned with the shared calibration data when not cached.
    private func prunedModel(_ spec: SweepJobSpec, detail: inout PruneDetail?) throws -> LoadedModel {
        let calibrationName = try calibration(of: spec)!
        return try cached(spec, made: "pruned", detail: &detail) { recipe in
            let source = try dense().loaded
            let method = try ImportanceMethods.named(spec.method, seed: spec.seed)
            let request = PruningRequest(method: method, sparsity: spec.sparsity, overrides: spec.pruning)
            let calibration = method.reads.readsCalibration
                ? try calibrationData(calibrationName, seed: spec.seed, source: source, statistics: request.readsDenseStatistics)
                : nil
            let started = Date()
            let outcome = try Pruner.prune(source.model, request,
                                           calibration: calibration?.set.sequences,
                                           statistics: calibration?.statistics, progress: progress)
            let url = try cache.store(outcome, recipe: recipe, calibration: calibration?.set, source: source)
            var seconds = Dictionary(outcome.seconds.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +)
            seconds["total"] = Date().timeIntervalSince(started)
            return (url, seconds)
        }
    }

    /// The tuned variant of a pruned model, tuned from the (cached) pruned model when not
    /// cached; a tune cut short by a killed sweep resumes from its checkpoint.
    private func tunedModel(_ spec: SweepJobSpec, detail: inout PruneDetail?) throws -> LoadedModel {
        guard let tune = config.tune else { throw FileError("sweep \(sweepName)", "\(spec.label) needs the sweep's tune settings") }
        return try cached(spec, made: "tuned", detail: &detail) { recipe in
            var untunedDetail: PruneDetail?
            let pruned = try prunedModel(spec.untuned, detail: &untunedDetail)
            if tuningData == nil {
                tuningData = tune.data == "c4"
                    ? try TuningData.c4(data: data, file: CalibrationSet.c4File, tokenizer: pruned.tokenizer, cutoff: tune.options.cutoff)
                    : try TuningData.alpaca(path: tune.data, tokenizer: pruned.tokenizer, cutoff: tune.options.cutoff)
            }
            let started = Date()
            let url = try cache.storeTuned(recipe: recipe, source: pruned, data: tuningData!,
                                           tune: RecoveryTune(options: tune.options, heldOut: tune.heldOut)) {
                self.progress("sweep \(self.sweepName): \(spec.label): " + $0)
            }
            return (url, ["tune": Date().timeIntervalSince(started)])
        }
    }

    /// The one cache path of pruned and tuned models: look the recipe up; on a hit load the
    /// model and fill a missing detail; on a miss make it (`make` stores it and returns where,
    /// and its seconds), then load it and set the detail.
    private func cached(_ spec: SweepJobSpec, made: String, detail: inout PruneDetail?,
                        make: (PrunedModelCache.Recipe) throws -> (url: URL, seconds: [String: Double])) throws -> LoadedModel {
        let source = try dense().loaded
        let recipe = try recipe(spec)
        if let url = cache.cached(recipe) {
            progress("sweep \(sweepName): \(spec.label): \(made) model cached at \(url.path)")
            let loaded = try ModelDirectory.load(url)
            if detail == nil { detail = PruneDetail(loaded.model, source: source.model, seconds: [:]) }
            return loaded
        }
        let (url, seconds) = try make(recipe)
        let loaded = try ModelDirectory.load(url)
        detail = PruneDetail(loaded.model, source: source.model, seconds: seconds)
        return loaded
    }

    /// Where `spec`'s model is on this machine, for another process to load: the source model's
    /// file, or its directory in the cache, made now when the cache lacks it (its model unit ran
    /// on another host, or the cache was emptied since), as the evaluation's shards would.
    func path(of spec: SweepJobSpec) throws -> String {
        if !spec.isDense, let url = cache.cached(try recipe(spec)) { return url.path }
        var detail: PruneDetail?
        return try model(spec, detail: &detail).path
    }

    /// The cache recipe of `spec`'s (pruned, or pruned and tuned) model.
    private func recipe(_ spec: SweepJobSpec) throws -> PrunedModelCache.Recipe {
        var tune: SweepTune?
        if spec.tuned {
            guard let settings = config.tune else { throw FileError("sweep \(sweepName)", "\(spec.label) needs the sweep's tune settings") }
            tune = settings
        }
        return PrunedModelCache.Recipe(sourceSHA256: try dense().sha256, method: spec.method, sparsity: spec.sparsity, seed: spec.seed,
                                       calibration: try calibration(of: spec)!, pruning: spec.pruning, tune: tune)
    }

    /// The removal plan hash of `spec`'s model, once `model(spec)` has made or found it: the
    /// pruned model's `PruningProvenance.removalPlanHash` from its config.json in the cache; a
    /// tuned variant's combines its pruned model's with the tune recipe (the same pruned model
    /// tuned the same way is the same model). Nil for the dense model, or when the pruned model
    /// is no longer in the cache.
    func planHash(_ spec: SweepJobSpec) throws -> String? {
        guard !spec.isDense else { return nil }
        if spec.tuned {
            guard let tune = config.tune, let pruned = try planHash(spec.untuned) else { return nil }
            return SHA256.hex(of: Data("\(pruned)|tuned|\(tune.json)".utf8))
        }
        guard let url = cache.cached(try recipe(spec)) else { return nil }
        return try HFConfig.read(from: url.appendingPathComponent(HFConfig.fileName)).bip?.provenance.removalPlanHash
    }

    /// The calibration draw `spec` of `seed` and, when asked, its dense statistics: made once.
    private func calibrationData(_ spec: String, seed: UInt64, source: LoadedModel,
                                 statistics: Bool) throws -> (set: CalibrationSet, statistics: [LayerStatistics]?) {
        let key = "\(spec) \(seed)"
        var entry = try calibrations[key] ?? (
            set: CalibrationSet.draw(try CalibrationSource(parsing: spec), seed: seed,
                                     tokenizer: source.tokenizer, data: data), statistics: nil)
        if statistics && entry.statistics == nil {
            progress("sweep \(sweepName): calibration statistics on \(spec) seed \(seed) (shared by every method and sparsity)")
            entry.statistics = try CalibrationPass.statistics(model: source.model, sequences: entry.set.sequences, progress: progress)
        }
        calibrations[key] = entry
        return entry
    }
}
