import Foundation
import Runtime
import Tasks

/// `bip report`: writes a sweep's `report.md`, `results.csv` and SVG plots (perplexity on a log
/// scale and average accuracy against sparsity, one line per untuned method with 95% bootstrap
/// intervals, the dense level dashed, and chance dotted on the accuracy plot).
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
        // order, each starting at the dense model (sparsity 0); a point's interval where its run has one.
        // Methods that made the same model at every sparsity (the same rows) share one line, named
        // `bip = bip-local`; methods that differ somewhere keep their own lines.
        var lines: [(methods: [String], rows: [Int])] = []
        for job in results.jobs where !job.isDense && !job.tuned && !lines.contains(where: { $0.methods.contains(job.methodLabel) }) {
            let rows = results.rows.indices.filter { results.rows[$0].methods.contains(job.methodLabel) }
            if let same = lines.firstIndex(where: { $0.rows == rows }) {
                lines[same].methods.append(job.methodLabel)
            } else {
                lines.append(([job.methodLabel], rows))
            }
        }
        func series(_ value: (SweepResults.Row) -> Double?, _ interval: (SweepResults.Row) -> ClosedRange<Double>?) -> [SVGLinePlot.Series] {
            let start = results.dense.flatMap { dense in value(dense).map { [SVGLinePlot.Point(x: 0, y: $0, interval: interval(dense))] } } ?? []
            return lines.compactMap { line in
                // A row whose value overflowed (a collapsed model's perplexity) has no point.
                let points = line.rows.map { results.rows[$0] }.compactMap { row in
                    value(row).flatMap { $0.isFinite ? SVGLinePlot.Point(x: row.sparsity, y: $0, interval: interval(row)) : nil }
                }
                return points.isEmpty ? nil : SVGLinePlot.Series(name: line.methods.joined(separator: " = "), points: start + points)
            }
        }
        var plots: [(String, String, SVGLinePlot)] = []
        for task in results.perplexityTasks {
            let title = TaskCatalog.spec(task)?.title ?? task
            let value: (SweepResults.Row) -> Double? = { $0.values[task]?["ppl"]?.value }
            let s = series(value) { results.perplexityInterval($0, task: task) }
            guard !s.isEmpty else { continue }
            plots.append(("\(task)-ppl.svg", "\(title) perplexity against sparsity, with 95% bootstrap intervals over windows",
                          SVGLinePlot(title: "\(title) perplexity (log scale)", xLabel: "sparsity (fraction of parameters removed)",
                                      yLabel: "perplexity", logY: true, series: s,
                                      references: results.dense.flatMap(value).map { [.init(label: "dense", y: $0)] } ?? [])))
        }
        if !results.accuracyTasks.isEmpty {
            let value: (SweepResults.Row) -> Double? = { results.average($0, metric: SweepResults.paperMetric).map { 100 * $0 } }
            let s = series(value) { row in
                results.averageAccuracyInterval(row, metric: SweepResults.paperMetric).map { 100 * $0.lowerBound...100 * $0.upperBound }
            }
            let chance = results.accuracyTasks.compactMap(SweepResults.chanceLevel)
            if !s.isEmpty {
                plots.append(("average-accuracy.svg", "average zero-shot accuracy against sparsity, with 95% bootstrap intervals over documents",
                              SVGLinePlot(title: "Average accuracy, \(results.accuracyTasks.count) tasks (paper metrics)",
                                          xLabel: "sparsity (fraction of parameters removed)", yLabel: "accuracy (%)", logY: false, series: s,
                                          references: (results.dense.flatMap(value).map { [.init(label: "dense", y: $0)] } ?? [])
                                              + (chance.count == results.accuracyTasks.count
                                                  ? [.init(label: "chance", y: 100 * chance.reduce(0, +) / Double(chance.count), dash: "2 3", color: "#7f7f7f")] : []))))
            }
        }
        return plots
    }
}
