import Foundation

/// A metric over a task's documents: mean, standard error (sample std with ddof=1 / sqrt(n),
/// NaN when n < 2) and n.
public struct MetricValue: Codable, Equatable, Sendable {
    public let mean: Double
    public let stderr: Double
    public let n: Int

    public init(mean: Double, stderr: Double, n: Int) {
        self.mean = mean
        self.stderr = stderr
        self.n = n
    }

    /// Mean and standard error of per-document scores, as lm-eval's `mean` and `mean_stderr`.
    public init(scores: [Double]) {
        let n = scores.count
        let mean = n == 0 ? .nan : scores.reduce(0, +) / Double(n)
        let variance = n < 2 ? .nan : scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        self.init(mean: mean, stderr: variance.squareRoot() / Double(n).squareRoot(), n: n)
    }
}

/// Turns per-choice loglikelihoods into lm-eval's acc and acc_norm.
public enum ZeroShotScoring {
    /// The index of the largest value; ties go to the lowest index.
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// The choice `metric` picks for `document`: the argmax of the loglikelihoods (`acc`), or of
    /// each divided by its choice text's length in code points (`acc_norm`).
    /// `loglikelihoods[i]` is the summed log-probability of choice `i`'s continuation.
    public static func prediction(_ document: ZeroShotDocument, loglikelihoods: [Double], metric: ZeroShotMetric) -> Int {
        switch metric {
        case .acc: return argmax(loglikelihoods)
        case .accNorm: return argmax(zip(loglikelihoods, document.choiceTexts).map { $0 / Double(PythonString.length($1)) })
        }
    }

    /// acc (and acc_norm where the task has it) of one document, each 0 or 1.
    /// `loglikelihoods[i]` is the summed log-probability of choice `i`'s continuation.
    public static func score(_ document: ZeroShotDocument, loglikelihoods: [Double], metrics: [ZeroShotMetric]) -> [ZeroShotMetric: Double] {
        Dictionary(uniqueKeysWithValues: metrics.map {
            ($0, prediction(document, loglikelihoods: loglikelihoods, metric: $0) == document.gold ? 1.0 : 0.0)
        })
    }

    /// Every metric of `task` over its documents; `loglikelihoods[d]` belongs to `task.documents[d]`.
    /// Throws a `DataError` naming the document's line if the number of values does not match.
    public static func evaluate(_ task: ZeroShotTask, loglikelihoods: [[Double]]) throws -> [ZeroShotMetric: MetricValue] {
        guard loglikelihoods.count == task.documents.count else {
            throw DataError(file: task.file, field: "loglikelihoods",
                            problem: "\(loglikelihoods.count) documents scored, expected \(task.documents.count)")
        }
        var scores: [ZeroShotMetric: [Double]] = [:]
        for (document, values) in zip(task.documents, loglikelihoods) {
            guard values.count == document.choiceCount else {
                throw DataError(file: task.file, line: document.index + 1, field: "loglikelihoods",
                                problem: "\(values.count) values, expected \(document.choiceCount)")
            }
            for (metric, score) in score(document, loglikelihoods: values, metrics: task.metrics) {
                scores[metric, default: []].append(score)
            }
        }
        return Dictionary(uniqueKeysWithValues: task.metrics.map { ($0, MetricValue(scores: scores[$0] ?? [])) })
    }
}
