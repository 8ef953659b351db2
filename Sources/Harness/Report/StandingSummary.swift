import Foundation
import Tasks

/// The report's account, in words, of where LLM-BIP stands: the `bip` row (LLM-BIP as its paper
/// sets it) against each other method's row at the same sparsity, tuned against tuned, on each
/// perplexity corpus and the average accuracy (paper metrics). The tests are the report's paired
/// tests (`SignificanceTable.pValue`), Holm-corrected over this section's comparisons as one family.
struct StandingSummary {
    /// One comparison of `bip` with another method in one column.
    struct Finding {
        let baseline: String
        let sparsity: Double
        /// The column's title: a corpus, or "average".
        let column: String
        let bip: Double
        let other: Double
        let lowerIsBetter: Bool
        /// Holm-adjusted; nil where the rows could not be paired (several seeds, missing evidence).
        var p: Double?

        var verdict: Verdict? {
            guard let p else { return nil }
            guard p <= SignificanceTable.alpha else { return .tie }
            return (bip < other) == lowerIsBetter ? .better : .worse
        }
    }

    /// A tested comparison's outcome in words, `bip`'s side first.
    enum Verdict: String, CaseIterable {
        case better = "bip better", worse = "bip worse", tie = "no significant difference"
    }

    /// The method of LLM-BIP's paper setting, whose rows the others are compared with.
    static let method = "bip"

    let findings: [Finding]
    /// The size of the Holm family.
    let comparisons: Int

    init(results: SweepResults, bootstrap: PairedBootstrap = PairedBootstrap()) {
        let tasks = results.perplexityTasks + results.accuracyTasks
        // The perplexity columns, then the average (whose column index is `tasks.count`).
        let columns = results.perplexityTasks.indices.map { ($0, TaskCatalog.spec(tasks[$0])?.title ?? tasks[$0]) } + [(tasks.count, "average")]
        var found: [Finding] = []
        for bip in results.rows where !bip.isDense {
            let tuned = bip.jobs[0].tuned
            guard bip.methods.contains(SweepJobSpec(method: Self.method, sparsity: bip.sparsity, seed: 0, tuned: tuned).methodLabel) else { continue }
            for other in results.rows where !other.isDense && other.sparsity == bip.sparsity && other.jobs[0].tuned == tuned
                && !other.methods.contains(where: { $0.hasPrefix(Self.method) }) {
                for (column, title) in columns {
                    guard let x = Self.value(results, bip, column: column, tasks: tasks),
                          let y = Self.value(results, other, column: column, tasks: tasks) else { continue }
                    var p: Double?
                    if let a = bip.runID, let b = other.runID {
                        p = SignificanceTable.pValue(results: results, tasks: tasks, metric: SweepResults.paperMetric, column: column,
                                                     a, b, bootstrap: bootstrap)
                    }
                    found.append(Finding(baseline: other.method, sparsity: bip.sparsity, column: title, bip: x, other: y,
                                         lowerIsBetter: column < tasks.count, p: p))
                }
            }
        }
        let tested = found.indices.filter { found[$0].p != nil }
        for (i, p) in zip(tested, HolmCorrection.adjusted(tested.map { found[$0].p! })) { found[i].p = p }
        findings = found
        comparisons = tested.count
    }

    /// A row's perplexity in `column`, or its average accuracy in percent (the paper metrics).
    private static func value(_ results: SweepResults, _ row: SweepResults.Row, column: Int, tasks: [String]) -> Double? {
        guard column < tasks.count else { return results.average(row, metric: SweepResults.paperMetric).map { 100 * $0 } }
        return row.values[tasks[column]]?[SweepResults.paperMetric(tasks[column])]?.value
    }

    /// The section's lines: one per other method with its tally, then one per sparsity.
    var lines: [String] {
        guard !findings.isEmpty else {
            return ["No row of `\(Self.method)` with another method at its sparsity: nothing to compare."]
        }
        var lines = ["`\(Self.method)` (LLM-BIP as its paper sets it) against each other method at the same sparsity, tuned against tuned, "
                     + "on each perplexity corpus and the average accuracy (paper metrics): the paired tests above, Holm-corrected over the "
                     + "\(comparisons) comparisons of this section, at level \(SignificanceTable.alpha).", ""]
        var baselines: [String] = []
        for f in findings where !baselines.contains(f.baseline) { baselines.append(f.baseline) }
        for baseline in baselines {
            let mine = findings.filter { $0.baseline == baseline }
            let tally = Verdict.allCases.map { verdict in "\(verdict.rawValue) in \(mine.count { $0.verdict == verdict })" }
            let untested = mine.count { $0.p == nil }
            lines.append("- **\(baseline)**: \(tally.joined(separator: ", ")) of \(mine.count) comparisons"
                         + (untested > 0 ? " (\(untested) not tested: rows of several seeds or without per-document evidence)." : "."))
            var sparsities: [Double] = []
            for f in mine where !sparsities.contains(f.sparsity) { sparsities.append(f.sparsity) }
            for sparsity in sparsities {
                let parts = mine.filter { $0.sparsity == sparsity }.map { f in
                    let p = f.p.map { $0 < 0.001 ? ", p < 0.001" : String(format: ", p = %.3f", $0) } ?? ""
                    return String(format: "%@ %.2f against %.2f, %@%@", f.column, f.bip, f.other, f.verdict?.rawValue ?? "not tested", p)
                }
                lines.append("  - at \(MarkdownReport.fraction(sparsity)): " + parts.joined(separator: "; ") + ".")
            }
        }
        return lines
    }
}
