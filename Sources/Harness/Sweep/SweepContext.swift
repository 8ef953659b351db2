import Foundation
import Runtime
import Tasks

/// What a worker keeps for one sweep: its configuration, its models (the source model loaded
/// once, pruned models from the cache), the tasks' items (loaded and tokenized once) and the
/// model of the job it ran last.
final class SweepContext {
    let record: SweepRecord
    let config: SweepConfig
    let data: DataDirectory
    let models: SweepModels
    private var items: [String: TaskItems] = [:]
    private var last: (jobID: Int64, model: LoadedModel)?

    init(target: SweepWorker.Target, data: DataDirectory, cache: PrunedModelCache, progress: @escaping (String) -> Void) {
        record = target.record
        config = target.config
        self.data = data
        models = SweepModels(config: config, data: data, cache: cache, sweepName: target.record.name, progress: progress)
    }

    var id: Int64 { record.id! }
    var name: String { record.name }

    /// The evaluation of `loaded` with the sweep's protocol and limits.
    func evaluation(of loaded: LoadedModel) -> TaskEvaluation {
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: data)
        evaluation.evalProtocol = config.evalProtocol
        evaluation.seqLen = config.seqLen
        evaluation.documentLimit = config.documentsEvaluated
        evaluation.windowLimit = config.windowsEvaluated
        return evaluation
    }

    /// The items of `task` (every model of a sweep has the source model's tokenizer).
    func items(of task: String, _ evaluation: TaskEvaluation) throws -> TaskItems {
        if let cached = items[task] { return cached }
        let loaded = try evaluation.items(of: task)
        items[task] = loaded
        return loaded
    }

    /// Keeps `model`, prepared for the sweep's compute, as the model of `job`'s units.
    func keep(_ model: LoadedModel, for job: SweepJob) throws -> LoadedModel {
        var model = model
        try model.prepare(for: config.compute ?? .fp32)
        last = (job.id!, model)
        return model
    }

    /// The model of `job`, made by its model unit (here or by another worker: from the cache).
    func model(of job: SweepJob) throws -> LoadedModel {
        if let last, last.jobID == job.id { return last.model }
        var detail = job.pruneDetail
        return try keep(models.model(job.spec, detail: &detail), for: job)
    }
}
