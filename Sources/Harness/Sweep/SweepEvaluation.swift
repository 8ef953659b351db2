import Foundation
import Runtime
import Tasks

/// The evaluation step of a sweep job: starts the job's evaluation run (or continues the one
/// stored, which may be a twin job's: the same model), evaluates the sweep's tasks that run has not stored yet, and records each task in
/// its own transaction, so a killed sweep loses at most the task under way.
struct SweepEvaluation {
    let store: ResultStore
    let config: SweepConfig
    let data: DataDirectory
    let sweepName: String
    let progress: (String) -> Void

    /// Evaluates `job` on `model`; returns the number of tasks evaluated now. A new run is
    /// stored with `options` and the sha256 of `modelSHA256()`.
    func evaluate(_ job: inout SweepJob, model: LoadedModel, modelSHA256: () throws -> String, options: EvaluationOptions,
                  clock: SweepClock, status: (String) -> Void) throws -> Int {
        if job.evalRunID == nil {
            let run = try store.startRun(of: model, sha256: try modelSHA256(), evalProtocol: config.evalProtocol, options: options)
            job.evalRunID = run.id
            try store.update(job)
        }
        let runID = job.evalRunID!
        let finished = try store.finishedTasks(runID: runID)
        var evaluation = TaskEvaluation(model: model.model, tokenizer: model.tokenizer, data: data)
        evaluation.evalProtocol = config.evalProtocol
        evaluation.seqLen = config.seqLen
        evaluation.documentLimit = config.documentsEvaluated
        evaluation.windowLimit = config.windowsEvaluated
        var tasksRun = 0
        for task in config.tasks(of: job.spec) {
            if finished.contains(task) {
                clock.skip(1)
                continue
            }
            let outcome = try evaluation.run(task) { done, total in
                clock.within(Double(done) / Double(max(total, 1)))
                status("\(task) \(done)/\(total)")
            }
            try store.record(outcome, runID: runID)
            tasksRun += 1
            clock.advance(1)
            progress("sweep \(sweepName): \(job.spec.label): "
                     + outcome.metrics.map { String(format: "%@ %@ %.4f", task, $0.name, $0.value) }.joined(separator: ", "))
        }
        // A run shared with an earlier job (the same model) keeps the time it finished.
        if try tasksRun > 0 || store.run(id: runID)?.finishedAt == nil {
            try store.finish(runID: runID, at: ISO8601DateFormatter().string(from: Date()))
        }
        return tasksRun
    }
}
