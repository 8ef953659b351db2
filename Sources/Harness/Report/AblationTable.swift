import BIP
import Foundation
import Tasks

/// The report's ablation of two parts of a method: whether each layer's calibration statistics
/// are taken in one pass on the dense model or after the earlier layers were pruned, and whether
/// the removed units' mean output is kept as a bias. One line per method and sparsity whose rows
/// (untuned, the same allocation and layers) differ only there, a cell per {one-shot, sequential}
/// × {bias off, on}, one table per perplexity corpus. Each cell is tested against the best cell of
/// its line by the paired bootstrap over windows, Holm-corrected over the table's comparisons.
struct AblationTable {
    /// The four settings, in column order.
    static let settings: [(statistics: StatisticsPass, bias: Bool)] = [(.oneShot, false), (.oneShot, true), (.sequential, false), (.sequential, true)]

    /// One line: a method (with its allocation where that departs from the paper's) at a sparsity.
    struct Line {
        let method: String
        let sparsity: Double
        /// The row of each setting (`settings` order), nil where the sweep has none.
        var rows: [SweepResults.Row?]
        /// The setting the method's paper uses, if it is one of the line's.
        let paper: Int?
    }

    let lines: [Line]

    init(results: SweepResults) {
        var lines: [Line] = []
        var index: [String: Int] = [:]
        for row in results.rows where !row.isDense && row.runID != nil {
            let job = row.jobs[0]
            guard !job.tuned, let method = try? ImportanceMethods.named(job.method), method.reads.readsStatistics else { continue }
            let setting = job.pruning.applied(to: method.paperSetting)
            guard let column = Self.settings.firstIndex(where: { $0.statistics == setting.statistics && $0.bias == setting.biasCompensation }) else { continue }
            // The line: the method with the departures other than these two parts.
            var others = job.pruning
            (others.statistics, others.biasCompensation) = (nil, nil)
            let name = others.isEmpty ? job.method : "\(job.method) (\(others.label))"
            let key = "\(name)|\(row.sparsity)"
            if index[key] == nil {
                let paper = method.paperSetting
                let paperColumn = others.departures(from: paper).isEmpty
                    ? Self.settings.firstIndex { $0.statistics == paper.statistics && $0.bias == paper.biasCompensation } : nil
                index[key] = lines.count
                lines.append(Line(method: name, sparsity: row.sparsity, rows: Array(repeating: nil, count: Self.settings.count), paper: paperColumn))
            }
            lines[index[key]!].rows[column] = row
        }
        self.lines = lines.filter { $0.rows.count { $0 != nil } > 1 }
    }

    /// The section's text: a table per perplexity corpus that two settings of a line were evaluated on.
    func text(results: SweepResults) -> [String] {
        var out: [String] = []
        for task in results.perplexityTasks {
            let values = lines.map { line in line.rows.map { row in row.flatMap { $0.values[task]?[SweepResults.paperMetric(task)]?.value } } }
            let shown = lines.indices.filter { values[$0].count { $0 != nil } > 1 }
            guard !shown.isEmpty else { continue }
            // Each cell against the best (lowest) of its line.
            var tests: [(line: Int, column: Int, p: Double)] = []
            for i in shown {
                let top = values[i].indices.filter { values[i][$0] != nil }.min { values[i][$0]! < values[i][$1]! }!
                for column in values[i].indices where column != top && values[i][column] != nil {
                    guard let x = results.perplexityWindows(runID: lines[i].rows[top]!.runID!, task: task),
                          let y = results.perplexityWindows(runID: lines[i].rows[column]!.runID!, task: task), x.count == y.count else { continue }
                    tests.append((i, column, SignificanceTable.bootstrap.perplexityPValue(before: x, now: y)))
                }
            }
            let adjusted = HolmCorrection.adjusted(tests.map(\.p))
            func p(_ i: Int, _ column: Int) -> Double? {
                tests.indices.first { tests[$0].line == i && tests[$0].column == column }.map { adjusted[$0] }
            }
            let title = TaskCatalog.spec(task)?.title ?? task
            out += ["\(title) perplexity. \\* marks the method's paper setting. Each cell is compared with the best of its line "
                    + "(paired bootstrap over windows, Holm-corrected over the \(tests.count) comparisons of this table): ‡ significantly worse; "
                    + "**bold**, the cells not significantly worse, shown only where one is.", "",
                    "| method | sparsity | " + Self.settings.map { "\($0.statistics.rawValue), bias \($0.bias ? "on" : "off")" }.joined(separator: " | ") + " |",
                    "|---|---|" + Self.settings.map { _ in "---:" }.joined(separator: "|") + "|"]
            for i in shown {
                let worse = values[i].indices.filter { p(i, $0).map { $0 <= SignificanceTable.alpha } ?? false }
                let cells = values[i].indices.map { column -> String in
                    guard let value = values[i][column] else { return "-" }
                    var text = String(format: "%.2f", value)
                    if !worse.isEmpty, !worse.contains(column) { text = "**\(text)**" }
                    if worse.contains(column) { text += "‡" }
                    if lines[i].paper == column { text += "\\*" }
                    return text
                }
                out.append("| \(lines[i].method) | \(MarkdownReport.fraction(lines[i].sparsity)) | " + cells.joined(separator: " | ") + " |")
            }
            out.append("")
        }
        return out
    }
}
