import BIP
import Foundation
import Gradients
import Runtime
import Tasks

/// Pruned models on disk (`$BIP_HOME/pruned/KEY/`), keyed by what made them: the source model's
/// sha256, the method, sparsity, seed, calibration and bip's version. A model is written under a
/// temporary name of its own (every file flushed to the disk) and renamed into place, so a
/// directory that exists is complete; asking again for the same key loads it instead of pruning
/// again. Two processes (cluster workers on a shared file system) may make the same model at
/// once: each writes its own copy, the first rename wins, the other copy is removed, and neither
/// ever reads a half-written model.
public struct PrunedModelCache: Sendable {
    public let directory: URL

    public init(home: URL? = nil) {
        directory = (home ?? ModelCache().directory.deletingLastPathComponent()).appendingPathComponent("pruned")
    }

    /// What a pruned (or pruned, then tuned) model is made from.
    public struct Recipe: Sendable, Equatable {
        public let sourceSHA256: String
        public let method: String
        public let sparsity: Double
        public let seed: UInt64
        public let calibration: String
        /// The pruning's departures from the method's paper setting.
        public let pruning: PruningOverrides
        /// The LoRA tune after the pruning; nil for a pruned model.
        public let tune: SweepTune?

        public init(sourceSHA256: String, method: String, sparsity: Double, seed: UInt64, calibration: String,
                    pruning: PruningOverrides = PruningOverrides(), tune: SweepTune? = nil) {
            self.sourceSHA256 = sourceSHA256
            self.method = method
            self.sparsity = sparsity
            self.seed = seed
            self.calibration = calibration
            self.pruning = pruning
            self.tune = tune
        }

        /// The cache key: the first 16 hex digits of the sha256 of every field (the pruning's
        /// departures only when there are any, so a paper-setting model keeps its key). A tuned
        /// model's text names the method `METHOD w/ tune` and puts the tune's JSON after the
        /// calibration, as its keys always have.
        public var key: String {
            let named = tune == nil ? method : method + " w/ tune"
            let calibrated = tune.map { calibration + "|" + $0.json } ?? calibration
            let text = "bip \(BuildInfo.version)|\(sourceSHA256)|\(named)|\(sparsity)|\(seed)|\(calibrated)"
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
        let partial = directory.appendingPathComponent(".\(recipe.key).\(TemporaryName.next(Self.partialKind))")
        let provenance = PruningProvenance(
            outcome, method: recipe.method, sparsityRequested: recipe.sparsity, calibration: calibration, seed: recipe.seed,
            sourceModel: source.path, sourceSHA256: recipe.sourceSHA256)
        do {
            try ModelDirectory.write(outcome.model, to: partial, dtype: .f32, provenance: provenance,
                                     tokenizerSource: try source.tokenizerSource())
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        return try moveIntoPlace(partial, recipe: recipe)
    }

    /// The kind of name (`TemporaryName`) of a model being written.
    static let partialKind = "partial"

    /// Tunes `source` (a cached pruned model) into the model of `recipe` with `tune` on `data`.
    /// The tune works in `.KEY.tuning/`, whose checkpoints a killed sweep resumes from, and is
    /// renamed into place when done (without its checkpoints). The process tuning there holds
    /// the lock `.KEY.tuning.lock`; another process making the same model meanwhile tunes in a
    /// directory of its own (`.KEY.partial-PID-N@HOST`), not resumed, and the first rename wins.
    public func storeTuned(recipe: Recipe, source: LoadedModel, data: TuningData, tune: RecoveryTune,
                           progress: (String) -> Void) throws -> URL {
        try AtomicFile.createDirectory(directory)
        let lock = open(directory.appendingPathComponent(".\(recipe.key).tuning.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        defer { if lock >= 0 { close(lock) } }
        let owner = lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0
        if let made = cached(recipe) { return made }
        let working = directory.appendingPathComponent(owner ? ".\(recipe.key).tuning" : ".\(recipe.key).\(TemporaryName.next(Self.partialKind))")
        do {
            _ = try tune.run(source, data: data, output: working, resume: owner, progress: progress)
        } catch {
            if !owner { try? FileManager.default.removeItem(at: working) }
            throw error
        }
        try? FileManager.default.removeItem(at: RecoveryTune.checkpointDirectory(working))
        return try moveIntoPlace(working, recipe: recipe)
    }

    /// Renames the finished directory `made` to the model of `recipe` (one atomic rename) and
    /// returns that. When another process made the same model meanwhile, its copy is kept and
    /// `made` removed.
    private func moveIntoPlace(_ made: URL, recipe: Recipe) throws -> URL {
        let final = location(of: recipe)
        AtomicFile.syncDirectory(made)
        guard rename(made.path, final.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: made)
            guard cached(recipe) != nil else { throw FileError(final.path, "cannot store the model: \(reason)") }
            return final
        }
        AtomicFile.syncDirectory(directory)
        return final
    }

    /// Deletes the partial directories of this host's processes that no longer run (killed while
    /// writing); another host's, on a shared file system, are its own to remove.
    func removeAbandonedPartials() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(".") {
            guard let pid = TemporaryName.localProcessID(in: name, kind: Self.partialKind), WorkerIdentity.hasEnded(Int(pid)) else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
