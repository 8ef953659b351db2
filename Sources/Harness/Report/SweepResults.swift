import Foundation
import Runtime
import Tasks

/// A sweep's stored results gathered for reporting: one row for the dense model, then one per
/// method × sparsity in plan order (several seeds are averaged into one row; methods whose jobs
/// made the same models, sharing their evaluation runs, share one row).
public struct SweepResults: Sendable {
    public let sweep: SweepRecord
    public let config: SweepConfig
    public let jobs: [SweepJob]
    /// The evaluation runs of the jobs, by run id.
    public let runs: [Int64: EvalRun]
    /// The metrics of each run, by run id.
    public let metrics: [Int64: [TaskMetric]]
    /// The per-document samples of each run's zero-shot tasks: run id -> task -> samples in document order.
    public let samples: [Int64: [String: [DocumentSample]]]
    /// The perplexity windows of each run's corpora: run id -> task -> windows in order.
    public let windows: [Int64: [String: [PerplexityWindow]]]
    public let rows: [Row]
    /// The imported runs of the database (`bip import lm-eval`), shown beside the sweep's rows.
    public let references: [Reference]

    /// An imported run: its record (with its source) and each task's metrics.
    public struct Reference: Sendable {
        public let run: EvalRun
        /// task -> metric -> (value, stderr, n).
        public let values: [String: [String: Value]]
    }

    /// One row of the report's tables: one model (or one per seed), with every method that made it.
    public struct Row: Sendable {
        /// The methods as shown (`METHOD w/ tune` for tuned variants) that made the row's models:
        /// several where they removed the same units (the jobs share their evaluation runs).
        public let methods: [String]
        public let sparsity: Double
        /// The done jobs averaged into this row (those of its first method).
        public let jobs: [SweepJob]
        /// Mean over the row's runs of each task's metrics: task -> metric -> (value, stderr, n).
        public let values: [String: [String: Value]]

        /// The methods as shown, joined: `bip = bip-local = bip-gate` for one model several made.
        public var method: String { methods.joined(separator: " = ") }

        public var isDense: Bool { method == SweepJobSpec.denseMethod }

        /// The row's one evaluation run, for the paired tests; nil for a row of several seeds.
        public var runID: Int64? { jobs.count == 1 ? jobs[0].evalRunID : nil }

        /// The mean of `value` over the row's jobs that have one; nil when none has.
        public func mean(_ value: (SweepJob) -> Double?) -> Double? {
            let xs = jobs.compactMap(value)
            return xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count)
        }

        public var parameters: Double? { mean { $0.parameters.map(Double.init) } }

        public var speedup: Double? { mean(\.speedup) }
    }

    /// A metric's value, standard error and count (means over seeds).
    public struct Value: Sendable, Equatable {
        public let value: Double
        public let stderr: Double?
        public let n: Int
    }

    public static func load(_ store: ResultStore, sweepName: String) throws -> SweepResults {
        guard let sweep = try store.sweep(named: sweepName) else {
            throw FileError(store.path, "no sweep named '\(sweepName)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
        }
        let config = try SweepConfig.stored(sweep, in: store)
        let jobs = try store.jobs(sweepID: sweep.id!)
        var runs: [Int64: EvalRun] = [:], metrics: [Int64: [TaskMetric]] = [:]
        var samples: [Int64: [String: [DocumentSample]]] = [:], windows: [Int64: [String: [PerplexityWindow]]] = [:]
        for job in jobs {
            guard let id = job.evalRunID else { continue }
            runs[id] = try store.run(id: id)
            metrics[id] = try store.metrics(runID: id)
            for task in config.tasks {
                if isPerplexity(task) {
                    windows[id, default: [:]][task] = try store.windows(runID: id, task: task)
                } else {
                    samples[id, default: [:]][task] = try store.samples(runID: id, task: task)
                }
            }
        }
        var rows: [Row] = []
        var keys: [String] = []
        var grouped: [String: [SweepJob]] = [:]
        for job in jobs where job.status == .done {
            let key = "\(job.methodLabel)|\(job.sparsity)"
            if grouped[key] == nil { keys.append(key) }
            grouped[key, default: []].append(job)
        }
        for key in keys {
            let group = grouped[key]!
            let runs = group.map(\.evalRunID)
            if !group[0].isDense, let twin = rows.firstIndex(where: { $0.sparsity == group[0].sparsity && $0.jobs.map(\.evalRunID) == runs }) {
                // The same models as an earlier row's (the jobs took its evaluation runs): one row, both methods.
                rows[twin] = Row(methods: rows[twin].methods + [group[0].methodLabel], sparsity: rows[twin].sparsity,
                                 jobs: rows[twin].jobs, values: rows[twin].values)
                continue
            }
            var values: [String: [String: Value]] = [:]
            let all = group.compactMap { $0.evalRunID }.compactMap { metrics[$0] }
            for task in config.tasks {
                var byMetric: [String: [TaskMetric]] = [:]
                for list in all { for m in list where m.task == task { byMetric[m.metric, default: []].append(m) } }
                for (metric, ms) in byMetric where ms.count == all.count {
                    let stderrs = ms.compactMap(\.stderr)
                    values[task, default: [:]][metric] = Value(
                        value: ms.map(\.value).reduce(0, +) / Double(ms.count),
                        stderr: stderrs.count == ms.count ? stderrs.reduce(0, +) / Double(ms.count) : nil,
                        n: ms[0].n)
                }
            }
            rows.append(Row(methods: [group[0].methodLabel], sparsity: group[0].sparsity, jobs: group, values: values))
        }
        let references = try store.runs().filter(\.isImported).map { run in
            Reference(run: run, values: Dictionary(grouping: try store.metrics(runID: run.id!), by: \.task).mapValues { metrics in
                Dictionary(uniqueKeysWithValues: metrics.map { ($0.metric, Value(value: $0.value, stderr: $0.stderr, n: $0.n)) })
            })
        }
        return SweepResults(sweep: sweep, config: config, jobs: jobs, runs: runs, metrics: metrics, samples: samples,
                            windows: windows, rows: rows, references: references)
    }

    /// The metric the paper tables quote for `task` (docs/evaluation-protocol.md, "The metric the
    /// paper tables quote"), from its `TaskCatalog` entry (`acc` for a task the catalog does not know).
    public static func paperMetric(_ task: String) -> String { TaskCatalog.spec(task)?.paperMetric ?? "acc" }

    /// Whether `task` is a perplexity corpus of `TaskCatalog`.
    public static func isPerplexity(_ task: String) -> Bool { TaskCatalog.spec(task)?.isPerplexity == true }

    public var perplexityTasks: [String] { config.tasks.filter(Self.isPerplexity) }
    public var accuracyTasks: [String] { config.tasks.filter { !Self.isPerplexity($0) } }

    /// The mean of the row's accuracies under `metric(task)`, if every accuracy task has one.
    public func average(_ row: Row, metric: (String) -> String) -> Double? { average(row.values, metric: metric) }

    /// The mean of `values`' accuracies under `metric(task)`, if every accuracy task has one.
    public func average(_ values: [String: [String: Value]], metric: (String) -> String) -> Double? {
        let xs = accuracyTasks.compactMap { values[$0]?[metric($0)]?.value }
        return xs.isEmpty || xs.count != accuracyTasks.count ? nil : xs.reduce(0, +) / Double(xs.count)
    }

    public var dense: Row? { rows.first { $0.isDense } }
}
