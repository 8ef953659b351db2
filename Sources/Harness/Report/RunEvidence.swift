import Foundation
import Tasks

/// The stored per-document answers and per-window NLL of a sweep's runs, as the report's tests,
/// intervals and answer levels read them.
extension SweepResults {
    /// The answer run `runID` chose for each document of `task` under `metric` (`acc` or
    /// `acc_norm`), in document order; nil unless a sample is stored for every document counted.
    func predictions(runID: Int64, task: String, metric: String) -> [Int]? {
        guard let kind = ZeroShotMetric(rawValue: metric), let samples = samples[runID]?[task], !samples.isEmpty,
              metrics[runID]?.first(where: { $0.task == task && $0.metric == metric })?.n == samples.count else { return nil }
        let chosen = samples.map { $0.prediction(kind) }
        return chosen.contains(nil) ? nil : chosen.map { $0! }
    }

    /// Whether run `runID` answered each document of `task` right under `metric`.
    func correct(runID: Int64, task: String, metric: String) -> [Bool]? {
        predictions(runID: runID, task: task, metric: metric).map { zip($0, samples[runID]![task]!).map { $0 == $1.gold } }
    }

    /// Each accuracy task's right answers, if the run has them for every task.
    func correctByTask(runID: Int64, metric: (String) -> String) -> [[Bool]]? {
        let all = accuracyTasks.compactMap { correct(runID: runID, task: $0, metric: metric($0)) }
        return all.count == accuracyTasks.count && !all.isEmpty ? all : nil
    }

    /// The stored windows of perplexity corpus `task` in run `runID`, if any.
    func perplexityWindows(runID: Int64, task: String) -> [PerplexityWindow]? {
        guard let windows = windows[runID]?[task], !windows.isEmpty else { return nil }
        return windows
    }

    /// The 95% bootstrap interval of the row's perplexity on `task`.
    func perplexityInterval(_ row: Row, task: String) -> ClosedRange<Double>? {
        guard let id = row.runID, let windows = perplexityWindows(runID: id, task: task) else { return nil }
        return SignificanceTable.bootstrap.perplexityInterval(windows)
    }

    /// The 95% bootstrap interval of the row's average accuracy under `metric` (a fraction).
    func averageAccuracyInterval(_ row: Row, metric: (String) -> String) -> ClosedRange<Double>? {
        guard let id = row.runID, let correct = correctByTask(runID: id, metric: metric) else { return nil }
        return SignificanceTable.bootstrap.averageAccuracyInterval(correct)
    }

    /// The share of documents of `task` whose gold is its most common one, from the first run
    /// (in job order) that stored the task's samples.
    func majorityRate(task: String) -> Double? {
        for job in jobs {
            guard let id = job.evalRunID, let samples = samples[id]?[task], !samples.isEmpty else { continue }
            return Self.topShare(samples.map(\.gold))
        }
        return nil
    }

    /// The answer the row's run chose most often on `task` under `metric` and its share of the documents.
    func mostChosen(_ row: Row, task: String, metric: String) -> (answer: Int, share: Double)? {
        guard let id = row.runID, let chosen = predictions(runID: id, task: task, metric: metric) else { return nil }
        let counts = Dictionary(chosen.map { ($0, 1) }, uniquingKeysWith: +)
        let top = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }!
        return (top.key, Double(top.value) / Double(chosen.count))
    }

    static func topShare(_ values: [Int]) -> Double {
        Double(Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +).values.max()!) / Double(values.count)
    }

    /// The chance level of `task` (guessing uniformly among its choices), nil for a perplexity corpus.
    static func chanceLevel(_ task: String) -> Double? { TaskCatalog.spec(task)?.chanceLevel }
}
