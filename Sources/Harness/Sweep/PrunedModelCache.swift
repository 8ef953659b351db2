import BIP
import Foundation
import Gradients
import Runtime
import Tasks

/// Pruned models on disk (`$BIP_HOME/pruned/KEY/`), keyed by what made them: the source model's
/// sha256, the method, sparsity, seed, calibration and bip's version. A model is written under a
/// temporary name and renamed into place, so a directory that exists is complete; asking again
/// for the same key loads it instead of pruning again.
public struct PrunedModelCache: Sendable {
    public let directory: URL

    public init(home: URL? = nil) {
        directory = (home ?? ModelCache().directory.deletingLastPathComponent()).appendingPathComponent("pruned")
    }

    /// What a pruned model is made from.
    public struct Recipe: Sendable, Hashable {
        public let sourceSHA256: String
        public let method: String
        public let sparsity: Double
        public let seed: UInt64
        public let calibration: String
        /// The pruning's departures from the method's paper setting.
        public let pruning: PruningOverrides

        public init(sourceSHA256: String, method: String, sparsity: Double, seed: UInt64, calibration: String,
                    pruning: PruningOverrides = PruningOverrides()) {
            self.sourceSHA256 = sourceSHA256
            self.method = method
            self.sparsity = sparsity
            self.seed = seed
            self.calibration = calibration
            self.pruning = pruning
        }

        /// The cache key: the first 16 hex digits of the sha256 of every field (the pruning's
        /// departures only when there are any, so a paper-setting model keeps its key).
        public var key: String {
            let text = "bip \(BuildInfo.version)|\(sourceSHA256)|\(method)|\(sparsity)|\(seed)|\(calibration)"
                + (pruning.isEmpty ? "" : "|\(pruning.key)")
            return String(SHA256.hex(of: Data(text.utf8)).prefix(16))
        }
    }

    public func location(of recipe: Recipe) -> URL { directory.appendingPathComponent(recipe.key) }

    /// The cached model of `recipe`, if there is one.
    public func cached(_ recipe: Recipe) -> URL? {
        let url = location(of: recipe)
        return ModelDirectory.isModelDirectory(url.path) ? url : nil
    }

    /// Writes `outcome` as the model of `recipe` and returns its directory.
    public func store(_ outcome: PruningOutcome, recipe: Recipe, calibration: CalibrationSet?, source: LoadedModel) throws -> URL {
        removeAbandonedPartials()
        let partial = directory.appendingPathComponent(".\(recipe.key).partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: partial)
        let provenance = PruningProvenance(
            outcome, method: recipe.method, sparsityRequested: recipe.sparsity, calibration: calibration, seed: recipe.seed,
            sourceModel: source.path, sourceSHA256: recipe.sourceSHA256)
        try ModelDirectory.write(outcome.model, to: partial, dtype: .f32, provenance: provenance,
                                 tokenizerSource: try source.tokenizerSource())
        return try moveIntoPlace(partial, recipe: recipe)
    }

    /// Tunes `source` (a cached pruned model) into the model of `recipe` with `tune` on `data`.
    /// The tune works in `.KEY.tuning/`, whose checkpoints a killed sweep resumes from, and is
    /// renamed into place when done (without its checkpoints).
    public func storeTuned(recipe: Recipe, source: LoadedModel, data: TuningData, tune: RecoveryTune,
                           progress: (String) -> Void) throws -> URL {
        let working = directory.appendingPathComponent(".\(recipe.key).tuning")
        _ = try tune.run(source, data: data, output: working, resume: true, progress: progress)
        try? FileManager.default.removeItem(at: RecoveryTune.checkpointDirectory(working))
        return try moveIntoPlace(working, recipe: recipe)
    }

    /// Renames the finished directory `made` to the model of `recipe` and returns that. When
    /// another sweep made the same model meanwhile, its copy is kept and `made` removed.
    private func moveIntoPlace(_ made: URL, recipe: Recipe) throws -> URL {
        let final = location(of: recipe)
        do {
            try FileManager.default.moveItem(at: made, to: final)
        } catch {
            try? FileManager.default.removeItem(at: made)
            guard cached(recipe) != nil else { throw error }
        }
        return final
    }

    /// Deletes the partial directories of processes that no longer run (killed while writing).
    func removeAbandonedPartials() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(".") && name.contains(".partial-") {
            guard let pid = Int32(name.split(separator: "-").last ?? ""), pid != ProcessInfo.processInfo.processIdentifier else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }
}
