import Foundation
import Tasks

/// The report's account, in words, of where LLM-BIP stands: the `bip` row (LLM-BIP as its paper
/// sets it) against each baseline's row at the same sparsity, tuned against tuned, on each
/// perplexity corpus and the average accuracy (paper metrics). A baseline is another method as
/// its paper sets it: LLM-BIP's own variants (`bip-local`, `bip (sequential)`, …) and the
/// baselines' ablation settings (`wanda-sp (one-shot)`, …) are not among them; the tables and the
/// ablation compare those. The tests are the report's paired
/// tests (`SignificanceTable.pValue`), Holm-corrected over this section's comparisons as one family.
struct StandingSummary {
    /// One comparison of `bip` with a baseline in one column.
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

    init(results: SweepResults) {
        let tasks = results.perplexityTasks + results.accuracyTasks
        // The perplexity columns, then the average (whose column index is `tasks.count`).
        let columns = results.perplexityTasks.indices.map { ($0, TaskCatalog.spec(tasks[$0])?.title ?? tasks[$0]) } + [(tasks.count, "average")]
        var found: [Finding] = []
        for bip in results.rows where !bip.isDense {
            let tuned = bip.jobs[0].tuned
            guard bip.methods.contains(SweepJobSpec(method: Self.method, sparsity: bip.sparsity, seed: 0, tuned: tuned).methodLabel) else { continue }
            for other in results.rows where !other.isDense && other.sparsity == bip.sparsity && other.jobs[0].tuned == tuned
                && other.jobs[0].pruning.isEmpty && !other.methods.contains(where: { $0.hasPrefix(Self.method) }) {
                for (column, title) in columns {
                    guard let x = Self.value(results, bip, column: column, tasks: tasks),
                          let y = Self.value(results, other, column: column, tasks: tasks) else { continue }
                    var p: Double?
                    if let a = bip.runID, let b = other.runID {
                        p = SignificanceTable.pValue(results: results, tasks: tasks, metric: SweepResults.paperMetric, column: column,
                                                     a, b)
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

    /// The section's lines: the tally over all baselines by kind of column, then per baseline
    /// its findings in words, its tally, and one line per sparsity with the values and p.
    var lines: [String] {
        guard !findings.isEmpty else {
            return ["No row of `\(Self.method)` with a baseline at its sparsity: nothing to compare."]
        }
        var lines = ["`\(Self.method)` (LLM-BIP as its paper sets it) against each baseline as its paper sets it, at the same sparsity, tuned against tuned, "
                     + "on each perplexity corpus and the average accuracy (paper metrics): the paired tests above, Holm-corrected over the "
                     + "\(comparisons) comparisons of this section, at level \(SignificanceTable.alpha).", ""]
        let kinds = [("perplexity", findings.filter(\.lowerIsBetter)), ("average accuracy", findings.filter { !$0.lowerIsBetter })].filter { !$0.1.isEmpty }
        lines.append("In all: " + kinds.map { "\($0.0), \(Self.tally($0.1))" }.joined(separator: "; ") + ".")
        lines.append("")
        var baselines: [String] = []
        for f in findings where !baselines.contains(f.baseline) { baselines.append(f.baseline) }
        for baseline in baselines {
            let mine = findings.filter { $0.baseline == baseline }
            let words = [("Perplexity", mine.filter(\.lowerIsBetter)), ("Average accuracy", mine.filter { !$0.lowerIsBetter })]
                .filter { !$0.1.isEmpty }.map { "\($0.0): \(Self.words($0.1))." }
            lines.append("- **\(baseline)**. " + words.joined(separator: " ") + " Tally: \(Self.tally(mine)).")
            for sparsity in Self.sparsities(mine) {
                let parts = mine.filter { $0.sparsity == sparsity }.map { f in
                    let p = f.p.map { $0 < 0.001 ? ", p < 0.001" : String(format: ", p = %.3f", $0) } ?? ""
                    return String(format: "%@ %.2f against %.2f, %@%@", f.column, f.bip, f.other, f.verdict?.rawValue ?? "not tested", p)
                }
                lines.append("  - at \(MarkdownReport.fraction(sparsity)): " + parts.joined(separator: "; ") + ".")
            }
        }
        return lines
    }

    /// How many of `findings` each verdict has, and how many were not tested.
    static func tally(_ findings: [Finding]) -> String {
        let counts = Verdict.allCases.map { verdict in "\(verdict.rawValue) in \(findings.count { $0.verdict == verdict })" }
        let untested = findings.count { $0.p == nil }
        return counts.joined(separator: ", ") + " of \(findings.count) comparisons"
            + (untested > 0 ? " (\(untested) not tested: rows of several seeds or without per-document evidence)" : "")
    }

    /// One kind of column's findings against one method in words: the sparsities grouped by
    /// verdict (in the findings' order; "every sparsity", or "any" for no difference, where one
    /// verdict holds throughout), and each sparsity whose columns disagree spelled out,
    /// e.g. "bip worse at 0.10 and 0.50; at 0.30, bip better on WikiText2 and no significant
    /// difference on PTB".
    static func words(_ findings: [Finding]) -> String {
        let sparsities = sparsities(findings)
        var groups: [(verdict: String, sparsities: [Double])] = []
        var mixed: [String] = []
        for sparsity in sparsities {
            let here = findings.filter { $0.sparsity == sparsity }
            let verdicts = here.map { $0.verdict?.rawValue ?? "not tested" }
            if Set(verdicts).count == 1 {
                if let i = groups.firstIndex(where: { $0.verdict == verdicts[0] }) { groups[i].sparsities.append(sparsity) }
                else { groups.append((verdicts[0], [sparsity])) }
            } else {
                let parts = zip(here, verdicts).map { "\($1) on \($0.column)" }
                mixed.append("at \(MarkdownReport.fraction(sparsity)), " + list(parts))
            }
        }
        let grouped = groups.map { group in
            group.sparsities.count == sparsities.count && sparsities.count > 1
                ? "\(group.verdict) at \(group.verdict == Verdict.tie.rawValue ? "any" : "every") sparsity"
                : "\(group.verdict) at " + list(group.sparsities.map(MarkdownReport.fraction))
        }
        return (grouped + mixed).joined(separator: "; ")
    }

    /// The distinct sparsities of `findings`, in their order.
    private static func sparsities(_ findings: [Finding]) -> [Double] {
        var out: [Double] = []
        for f in findings where !out.contains(f.sparsity) { out.append(f.sparsity) }
        return out
    }

    /// "a", "a and b", "a, b and c".
    private static func list(_ items: [String]) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
