import Foundation

extension TaskOutcome {
    /// The outcome of task `task` (of `TaskCatalog`) from the outcomes of all its shards, given in
    /// any order: the one way bip turns per-item results into a task's metrics, for a task
    /// evaluated whole (one shard) or in shards.
    ///
    /// - perplexity: `exp(Σ nllSum / Σ tokens)`, the windows' NLL sums added in window order in
    ///   Float64 (`PerplexityEvaluator.meanNLL`), n = the scored tokens;
    /// - zero-shot: for each of the task's metrics, the mean and standard error of the documents'
    ///   0/1 scores (prediction == gold) in document order (`MetricValue(scores:)`), n = documents.
    ///
    /// The detail holds the counts (`windows` and `seq_len`, or `documents`) and the sums over the
    /// shards of `tokens_run`, `naive_tokens` and `seconds`. Throws a `DataError` naming the task
    /// if the shards do not cover its items exactly once, from item 0 on, with one result per item.
    public init(task: String, combining shards: [ShardOutcome]) throws {
        guard let spec = TaskCatalog.spec(task) else {
            throw DataError(file: task, problem: "unknown task (known: \(TaskCatalog.names.joined(separator: ", ")))")
        }
        let ordered = shards.sorted { $0.shard.first < $1.shard.first }
        var next = 0
        for outcome in ordered {
            let shard = outcome.shard
            guard shard.task == task else {
                throw DataError(file: task, problem: "shard \(shard.index) belongs to task \(shard.task)")
            }
            guard shard.first == next else {
                throw DataError(file: task, problem: shard.first > next
                                ? "items \(next)..<\(shard.first) are in no shard"
                                : "items \(shard.first)..<\(min(next, shard.first + shard.count)) are in two shards")
            }
            let indices = spec.isPerplexity ? outcome.windows.map(\.index) : outcome.samples.map(\.docIndex)
            guard indices == Array(shard.items), outcome.samples.isEmpty || outcome.windows.isEmpty else {
                throw DataError(file: task, problem: "shard \(shard.index) holds results for items \(indices.first ?? 0)... "
                                + "(\(indices.count)), not for its items \(shard.first)..<\(shard.first + shard.count)")
            }
            next += shard.count
        }
        var detail = [
            "tokens_run": Double(ordered.reduce(0) { $0 + $1.tokensRun }),
            "naive_tokens": Double(ordered.reduce(0) { $0 + $1.naiveTokens }),
            "seconds": ordered.reduce(0) { $0 + $1.seconds },
        ]
        switch spec.kind {
        case .perplexity:
            let windows = ordered.flatMap(\.windows)
            guard let first = windows.first, windows.allSatisfy({ $0.tokens == first.tokens }) else {
                throw DataError(file: task, problem: windows.isEmpty ? "no window evaluated" : "windows of different lengths")
            }
            let tokens = windows.count * first.tokens
            let meanNLL = PerplexityEvaluator.meanNLL(windowSums: windows.map(\.nllSum), tokens: tokens)
            detail["windows"] = Double(windows.count)
            detail["seq_len"] = Double(first.tokens + 1)
            self.init(task: task, metrics: [Metric(name: "ppl", value: exp(meanNLL), stderr: nil, n: tokens)], detail: detail,
                      samples: [], windows: windows)
        case .zeroShot(_, let metrics, _, _):
            let samples = ordered.flatMap(\.samples)
            detail["documents"] = Double(samples.count)
            self.init(task: task, metrics: try metrics.map { metric in
                let scores = try samples.map { sample -> Double in
                    guard let prediction = sample.prediction(metric) else {
                        throw DataError(file: task, problem: "document \(sample.docIndex) has no \(metric.rawValue) prediction")
                    }
                    return prediction == sample.gold ? 1 : 0
                }
                let value = MetricValue(scores: scores)
                return Metric(name: metric.rawValue, value: value.mean, stderr: value.stderr.isNaN ? nil : value.stderr, n: value.n)
            }, detail: detail, samples: samples)
        }
    }
}
