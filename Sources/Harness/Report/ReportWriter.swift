import Foundation
import Runtime
import Tasks

/// `bip report`: writes a sweep's `report.md`, `results.csv` and SVG plots (perplexity on a log
/// scale and average accuracy against sparsity, one line per method, the dense level dashed).
public struct ReportWriter {
    public let store: ResultStore
    public let sweepName: String

    public init(store: ResultStore, sweepName: String) {
        self.store = store
        self.sweepName = sweepName
    }

    /// Writes the files into `directory` (created if needed) and returns them.
    public func write(to directory: URL) throws -> [URL] {
        let results = try SweepResults.load(store, sweepName: sweepName)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [URL] = []
        func save(_ text: String, _ name: String) throws {
            let url = directory.appendingPathComponent(name)
            do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
                throw FileError(url.path, "cannot write the report: \(error.localizedDescription)")
            }
            written.append(url)
        }
        var plots: [(file: String, caption: String)] = []
        for (file, caption, plot) in Self.plots(results) {
            try save(plot.svg, file)
            plots.append((file, caption))
        }
        try save(MarkdownReport(results: results, plots: plots).text, "report.md")
        try save(ResultsCSV.text(results), "results.csv")
        return written
    }

    static func plots(_ results: SweepResults) -> [(String, String, SVGLinePlot)] {
        // One line per method as shown (with its departures from the paper setting), in plan
        // order, each starting at the dense model (sparsity 0).
        var methods: [String] = []
        for job in results.jobs where !job.isDense && !job.tuned && !methods.contains(job.methodLabel) { methods.append(job.methodLabel) }
        func series(_ value: (SweepResults.Row) -> Double?) -> [SVGLinePlot.Series] {
            let start = results.dense.flatMap(value).map { [(x: 0.0, y: $0)] } ?? []
            return methods.compactMap { method in
                let points = results.rows.filter { $0.method == method }.compactMap { row in value(row).map { (x: row.sparsity, y: $0) } }
                return points.isEmpty ? nil : SVGLinePlot.Series(name: method, points: start + points)
            }
        }
        var plots: [(String, String, SVGLinePlot)] = []
        for task in results.perplexityTasks {
            let title = TaskCatalog.spec(task)?.title ?? task
            let value: (SweepResults.Row) -> Double? = { $0.values[task]?["ppl"]?.value }
            let s = series(value)
            guard !s.isEmpty else { continue }
            plots.append(("\(task)-ppl.svg", "\(title) perplexity against sparsity",
                          SVGLinePlot(title: "\(title) perplexity (log scale)", xLabel: "sparsity (fraction of parameters removed)",
                                      yLabel: "perplexity", logY: true, series: s,
                                      reference: results.dense.flatMap(value).map { ("dense", $0) })))
        }
        if !results.accuracyTasks.isEmpty {
            let value: (SweepResults.Row) -> Double? = { results.average($0, metric: SweepResults.paperMetric).map { 100 * $0 } }
            let s = series(value)
            if !s.isEmpty {
                plots.append(("average-accuracy.svg", "average zero-shot accuracy against sparsity",
                              SVGLinePlot(title: "Average accuracy, \(results.accuracyTasks.count) tasks (paper metrics)",
                                          xLabel: "sparsity (fraction of parameters removed)", yLabel: "accuracy (%)", logY: false,
                                          series: s, reference: results.dense.flatMap(value).map { ("dense", $0) })))
            }
        }
        return plots
    }
}
