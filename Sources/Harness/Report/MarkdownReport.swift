import BIP
import Foundation
import Tasks

/// `report.md` of a sweep: where LLM-BIP stands against each other method, in words
/// (`StandingSummary`); the paper-style tables (the paper's acc / acc_norm mix, then acc
/// everywhere) with chance and majority-class rows and the marks of the paired tests
/// (`SignificanceTable`), the change against dense, the ablation of statistics and bias
/// compensation (`AblationTable`), skewed answers, the tests' p-values, standard errors,
/// efficiency, and provenance. Made only from the database and the data manifests (the
/// bootstrap is seeded), so the same database gives the same bytes.
struct MarkdownReport {
    let results: SweepResults
    let plots: [(file: String, caption: String)]

    var text: String {
        let config = results.config
        var lines: [String] = []
        lines.append("# Sweep `\(results.sweep.name)`: \(config.model)")
        lines.append("")
        lines.append("Made by:")
        lines.append("")
        lines.append("```sh")
        lines.append(SweepCommandLine.text(config, name: results.sweep.name))
        lines.append("```")
        lines.append("")
        let limit = config.limit.map { "the first \($0) documents of each zero-shot task and the first \($0) windows of \(config.seqLen) tokens of each perplexity corpus" }
            ?? config.documentLimit.map { "the first \($0) documents of each zero-shot task and every window of each perplexity corpus" }
            ?? "every document and every window"
        let compute = config.compute.map { "; compute `\($0.rawValue)` (docs/evaluation-protocol.md, \"Compute precision\")" } ?? ""
        lines.append("Evaluated on \(limit); protocol `\(config.evalProtocol.rawValue)`\(compute); calibration `\(config.calibration)`\(Self.ownCalibrations(config)); seeds \(config.seeds.map(String.init).joined(separator: ", ")). "
                     + "Planned \(results.sweep.createdAt); \(results.jobs.count { $0.status == .done }) of \(results.jobs.count) jobs done"
                     + (results.jobs.contains { $0.status == .failed } ? ", \(results.jobs.count { $0.status == .failed }) failed (listed at the end)." : "."))
        if let tune = config.tune {
            lines.append("")
            lines.append("The \"w/ tune\" rows: each pruned model LoRA-tuned on `\(tune.data)` (held-out \(tune.heldOut) at most, the best adapters by held-out loss merged), recipe `\(tune.json)`.")
        }
        lines.append("")
        lines.append("Perplexity: lower is better. Accuracies in percent: higher is better. "
                     + "Speed-up: forward tokens/s against the dense model's, measured interleaved (`bip bench` workload, batch 8 × 128); ¶ marks one that its MACs cannot explain (see Efficiency).")
        lines.append("")
        lines.append("Significance: each pruned result is compared with the dense model and with the best other method at its sparsity, "
                     + "column by column: perplexity by a paired bootstrap over windows (\(SignificanceTable.bootstrap.resamples) resamples, seed \(SignificanceTable.bootstrap.seed), "
                     + "p from the observed difference of mean NLL over the resampled differences' standard deviation), accuracies by McNemar's exact test on the documents, "
                     + "the average by a paired bootstrap over documents within each task. The p-values of each table are corrected by Holm's method "
                     + "for the number of distinct comparisons in that table, at level \(SignificanceTable.alpha). "
                     + "† marks a significant difference from the dense model, ‡ from the best other method at the same sparsity. "
                     + "**Bold**: the values not significantly worse than the best of their sparsity, shown only where at least one value there is significantly worse "
                     + "(a tie of all is no bold). § marks an accuracy at or below chance. Rows of several seeds are not tested.")
        lines.append("")

        lines.append("## Where LLM-BIP stands")
        lines.append("")
        lines += StandingSummary(results: results).lines
        lines.append("")
        lines.append("## Results (the paper tables' metrics)")
        lines.append("")
        let quoted = { (metric: String) in TaskCatalog.all.filter { $0.paperMetric == metric }.map(\.title).joined(separator: ", ") }
        lines.append("acc for \(quoted("acc")); acc_norm for \(quoted("acc_norm")) (as LLM-Pruner and LLM-BIP report them); average = mean of the accuracies shown.")
        lines.append("")
        let paperTests = tests(metric: SweepResults.paperMetric)
        lines += table(metric: SweepResults.paperMetric, delta: false, tests: paperTests)
        lines += skewNotes(metric: SweepResults.paperMetric)
        lines += referenceTable()
        lines.append("")
        lines.append("## Change against dense (paper metrics)")
        lines.append("")
        lines.append("Perplexity: difference; accuracies: difference in percentage points.")
        lines.append("")
        lines += table(metric: SweepResults.paperMetric, delta: true, tests: paperTests)
        lines.append("")
        let ablation = AblationTable(results: results).text(results: results)
        if !ablation.isEmpty {
            lines.append("## Ablation: one-shot or sequential statistics, bias compensation off or on")
            lines.append("")
            lines += ablation
        }
        lines.append("## Results with acc everywhere")
        lines.append("")
        lines += table(metric: Self.accEverywhere, delta: false, tests: tests(metric: Self.accEverywhere))
        lines.append("")
        lines.append("## Paired tests (paper metrics, Holm-adjusted p-values)")
        lines.append("")
        lines += pValueTable(paperTests)
        lines.append("")
        lines.append("## Standard errors (paper metrics, percentage points) and the average's bootstrap interval (over documents within each task)")
        if results.config.seeds.count > 1 {
            lines.append("")
            lines.append("A row of several seeds shows the mean of its runs' standard errors.")
        }
        lines.append("")
        lines += stderrTable()
        lines.append("")
        if !plots.isEmpty {
            lines.append("## Plots")
            lines.append("")
            for plot in plots { lines.append("![\(plot.caption)](\(plot.file))") }
            lines.append("")
        }
        lines.append("## Efficiency")
        lines.append("")
        lines += efficiencyTable()
        lines.append("")
        lines += provenance()
        let failed = results.jobs.filter { $0.status == .failed }
        if !failed.isEmpty {
            lines.append("")
            lines.append("## Failed jobs")
            lines.append("")
            for job in failed { lines.append("- \(job.methodLabel) @ \(Self.fraction(job.sparsity)) seed \(job.seed): \(job.error ?? "")") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The methods of `config` that prune with a calibration of their own paper's instead of the
    /// sweep's (LLM-Pruner's), e.g. " (`llm-pruner-element1`: their own, `c4:10x64`)"; empty when none does.
    static func ownCalibrations(_ config: SweepConfig) -> String {
        guard let standard = try? CalibrationSource(parsing: config.calibration) else { return "" }
        var own: [(method: String, calibration: String)] = []
        for job in config.jobs where !job.isDense && !own.contains(where: { $0.method == job.method }) {
            guard let method = try? ImportanceMethods.named(job.method), method.reads.readsCalibration else { continue }
            let calibration = method.calibration(requested: nil, standard: standard)
            if calibration != standard { own.append((job.method, calibration.description)) }
        }
        guard !own.isEmpty else { return "" }
        let calibrations = Dictionary(grouping: own, by: \.calibration)
        return " (" + calibrations.keys.sorted().map { calibration in
            calibrations[calibration]!.map { "`\($0.method)`" }.joined(separator: ", ") + ": their own, `\(calibration)`"
        }.joined(separator: "; ") + ")"
    }

    private var columns: [String] { results.perplexityTasks + results.accuracyTasks }

    private func header() -> [String] {
        let titles = ["method", "sparsity", "parameters", "speed-up"] + columns.map { TaskCatalog.spec($0)?.title ?? $0 } + ["average"]
        return ["| " + titles.joined(separator: " | ") + " |",
                "|" + titles.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|"]
    }

    /// Values of one row under `metric`: the perplexities, the accuracies (percent), the average.
    private func cells(_ row: SweepResults.Row, metric: (String) -> String) -> [Double?] { cells(row.values, metric: metric) }

    private func cells(_ values: [String: [String: SweepResults.Value]], metric: (String) -> String) -> [Double?] {
        columns.map { task in
            guard let v = values[task]?[metric(task)]?.value else { return nil }
            return SweepResults.isPerplexity(task) ? v : 100 * v
        } + [results.average(values, metric: metric).map { 100 * $0 }]
    }

    /// The imported runs (`bip import lm-eval`) under the paper metrics, each labelled with where
    /// it came from; nothing when the database holds none.
    private func referenceTable() -> [String] {
        guard !results.references.isEmpty else { return [] }
        var lines = ["", "Reference runs, imported from other evaluations' result files (not tested against the rows above):", ""] + header()
        for (i, reference) in results.references.enumerated() {
            let values = cells(reference.values, metric: SweepResults.paperMetric).map { $0.map { String(format: "%.2f", $0) } ?? "-" }
            let parameters = reference.run.parameters > 0 ? Self.parameters(Double(reference.run.parameters)) : "-"
            lines.append("| " + (["reference \(i + 1)", "-", parameters, "-"] + values).joined(separator: " | ") + " |")
        }
        lines.append("")
        for (i, reference) in results.references.enumerated() {
            let options = try? JSONDecoder().decode(EvaluationOptions.self, from: Data(reference.run.options.utf8))
            let limit = options?.limit.map { ", limit \($0)" } ?? options?.documentLimit.map { ", first \($0) documents" } ?? ""
            lines.append("- reference \(i + 1): run \(reference.run.id!), \(reference.run.source!.label), protocol `\(reference.run.evalProtocol)`\(limit).")
        }
        return lines
    }

    static func accEverywhere(_ task: String) -> String { SweepResults.isPerplexity(task) ? "ppl" : "acc" }

    private func tests(metric: (String) -> String) -> SignificanceTable {
        SignificanceTable(results: results, tasks: columns, metric: metric, values: { cells($0, metric: metric) })
    }

    private func table(metric: (String) -> String, delta: Bool, tests: SignificanceTable) -> [String] {
        var lines = header()
        let dense = results.dense.map { cells($0, metric: metric) }
        let chance = columns.map { SweepResults.chanceLevel($0).map { 100 * $0 } } + [average(results.accuracyTasks.map(SweepResults.chanceLevel))]
        if !delta, !results.accuracyTasks.isEmpty {
            lines.append(levelRow("chance", chance))
            lines.append(levelRow("majority class", columns.map { results.majorityRate(task: $0).map { 100 * $0 } }
                                  + [average(results.accuracyTasks.map(results.majorityRate))]))
        }
        for (r, row) in results.rows.enumerated() {
            let values = cells(row, metric: metric)
            let seeds = row.isDense || results.config.seeds.count == 1 ? "" : " (\(row.jobs.count)/\(results.config.seeds.count) seeds)"
            var out = [row.method + seeds, row.isDense ? "0" : Self.fraction(row.sparsity), Self.parameters(row.parameters),
                       speedup(row)]
            for (i, value) in values.enumerated() {
                guard let value else {
                    out.append("-")
                    continue
                }
                var text: String
                if delta {
                    guard let base = dense?[i] else {
                        out.append("-")
                        continue
                    }
                    text = row.isDense ? "0" : Self.signed(value - base)
                } else {
                    text = String(format: "%.2f", value)
                }
                if tests.bold[r][i] { text = "**\(text)**" }
                let cell = tests.cells[r][i]
                if tests.isSignificant(cell.againstDense) { text += "†" }
                if tests.isSignificant(cell.againstBest) { text += "‡" }
                if !delta, let level = chance[i], value <= level { text += "§" }
                out.append(text)
            }
            lines.append("| " + out.joined(separator: " | ") + " |")
        }
        return lines
    }

    /// The mean of `levels` in percent, if every one is known.
    private func average(_ levels: [Double?]) -> Double? {
        let known = levels.compactMap { $0 }
        return known.isEmpty || known.count != levels.count ? nil : 100 * known.reduce(0, +) / Double(known.count)
    }

    /// A reference row of the accuracy tables (chance, majority class): perplexity cells empty.
    private func levelRow(_ name: String, _ levels: [Double?]) -> String {
        "| " + ([name, "", "", ""] + levels.map { $0.map { String(format: "%.2f", $0) } ?? "-" }).joined(separator: " | ") + " |"
    }

    /// Notes on the results that chose one answer for more than `skewShare` of a task's documents.
    static let skewShare = 0.8

    private func skewNotes(metric: (String) -> String) -> [String] {
        var notes: [String] = []
        for task in results.accuracyTasks {
            let title = TaskCatalog.spec(task)?.title ?? task
            let majority = results.majorityRate(task: task).map { String(format: "; the majority class is %.1f%% of them", 100 * $0) } ?? ""
            for row in results.rows {
                guard let top = results.mostChosen(row, task: task, metric: metric(task)), top.share > Self.skewShare else { continue }
                let name = row.isDense ? "dense" : "\(row.method) @ \(Self.fraction(row.sparsity))"
                notes.append(String(format: "- %@, %@: picks answer %d for %.1f%% of the documents%@.", name, title, top.answer, 100 * top.share, majority))
            }
        }
        guard !notes.isEmpty else { return [] }
        return ["", "Skewed answers (one answer for more than \(Int(100 * Self.skewShare))% of a task's documents, which moves an accuracy towards that answer's share of the golds rather than showing skill):", ""] + notes
    }

    /// The Holm-adjusted p-values behind the paper table's marks: against dense / against the best other method.
    private func pValueTable(_ tests: SignificanceTable) -> [String] {
        guard tests.comparisons > 0 else { return ["No paired tests: the runs stored no per-document answers or perplexity windows."] }
        let titles = ["method", "sparsity"] + columns.map { TaskCatalog.spec($0)?.title ?? $0 } + ["average"]
        var lines = ["Each cell: p against dense / p against the best other method at the same sparsity, after Holm's correction over the \(tests.comparisons) distinct comparisons of the table.", "",
                     "| " + titles.joined(separator: " | ") + " |",
                     "|---|---|" + (columns + ["average"]).map { _ in "---:" }.joined(separator: "|") + "|"]
        func p(_ x: Double?) -> String { x.map { $0 < 0.001 ? "<0.001" : String(format: "%.3f", $0) } ?? "-" }
        for (r, row) in results.rows.enumerated() where !row.isDense {
            lines.append("| \(row.method) | \(Self.fraction(row.sparsity)) | "
                         + tests.cells[r].map { "\(p($0.againstDense)) / \(p($0.againstBest))" }.joined(separator: " | ") + " |")
        }
        return lines
    }

    private func stderrTable() -> [String] {
        let tasks = results.accuracyTasks
        guard !tasks.isEmpty else { return ["No accuracy tasks in this sweep."] }
        var lines = ["| method | sparsity | " + tasks.map { TaskCatalog.spec($0)?.title ?? $0 }.joined(separator: " | ") + " | average: 95% interval | n |",
                     "|---|---|" + tasks.map { _ in "---:" }.joined(separator: "|") + "|---:|---:|"]
        for row in results.rows {
            let interval = results.averageAccuracyInterval(row, metric: SweepResults.paperMetric)
            let cells = tasks.map { task in
                row.values[task]?[SweepResults.paperMetric(task)]?.stderr.map { String(format: "±%.2f", 100 * $0) } ?? "-"
            } + [interval.map { String(format: "%.2f–%.2f", 100 * $0.lowerBound, 100 * $0.upperBound) } ?? "-"]
            let ns = Set(tasks.compactMap { row.values[$0]?[SweepResults.paperMetric($0)]?.n }).sorted().map(String.init).joined(separator: "/")
            lines.append("| \(row.method) | \(row.isDense ? "0" : Self.fraction(row.sparsity)) | " + cells.joined(separator: " | ") + " | \(ns) |")
        }
        return lines
    }

    private func efficiencyTable() -> [String] {
        var lines = ["| method | sparsity | parameters | sparsity reached | MACs/token (128 ctx) | peak memory | tokens/s | dense tokens/s (interleaved) | speed-up |",
                     "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in results.rows {
            let reached = row.jobs.compactMap { $0.pruneDetail?.sparsityReached }
            let cells = [
                row.method, row.isDense ? "0" : Self.fraction(row.sparsity), Self.parameters(row.parameters),
                reached.isEmpty ? (row.isDense ? "0" : "-") : String(format: "%.4f", reached.reduce(0, +) / Double(reached.count)),
                row.mean(\.macsPerToken).map { String(format: "%.1fM", $0 / 1e6) } ?? "-",
                row.mean { $0.peakMemoryBytes.map(Double.init) }.map { String(format: "%.0f MB", $0 / 1e6) } ?? "-",
                row.mean(\.tokensPerSecond).map { String(format: "%.1f", $0) } ?? "-",
                row.mean(\.denseTokensPerSecond).map { String(format: "%.1f", $0) } ?? "-",
                speedup(row),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        let doubtful = results.rows.filter { isImplausible($0) }
        if !doubtful.isEmpty {
            lines.append("")
            lines.append("¶ Implausible speed-up: above \(String(format: "%.2f", SweepJob.speedupAllowance)) × the dense model's MACs per token over the row's, "
                         + "which is as much as removing arithmetic can give, or below 1. A benchmark that shared the machine with other work "
                         + "gives such values (\(doubtful.map { "\($0.method) @ \(Self.fraction($0.sparsity))" }.joined(separator: "; "))). "
                         + "`bip sweep --resume --name \(results.sweep.name) --remeasure-implausible` measures these jobs again "
                         + "(`--remeasure`: every finished job); run it on an otherwise idle machine.")
        }
        return lines
    }

    /// A pruned row whose mean speed-up cannot come from its smaller arithmetic (`SweepJob.isImplausible`).
    private func isImplausible(_ row: SweepResults.Row) -> Bool {
        !row.isDense && SweepJob.isImplausible(speedup: row.speedup, macsPerToken: row.mean(\.macsPerToken),
                                               denseMACsPerToken: results.dense?.mean(\.macsPerToken))
    }

    /// A row's speed-up, ¶ where it is implausible (the efficiency table's note says why).
    private func speedup(_ row: SweepResults.Row) -> String {
        guard let speedup = row.speedup else { return "-" }
        return String(format: "%.2f×", speedup) + (isImplausible(row) ? "¶" : "")
    }

    private func provenance() -> [String] {
        var lines = ["## Provenance", ""]
        let dense = results.jobs.first { $0.isDense }
        if let id = dense?.evalRunID, let run = results.runs[id] {
            lines.append("- Model: `\(results.config.model)` (`\(run.modelPath)`), sha256 `\(run.modelSHA256)`, \(run.parameters) parameters.")
        } else {
            lines.append("- Model: `\(results.config.model)`.")
        }
        lines.append("- Protocol: `\(results.config.evalProtocol.rawValue)`\(results.config.compute.map { "; compute `\($0.rawValue)`" } ?? ""); perplexity windows of \(results.config.seqLen) tokens; calibration `\(results.config.calibration)`.")
        let runs = results.jobs.compactMap { $0.evalRunID }.compactMap { results.runs[$0] }
        let builds = Set(runs.map { "bip \($0.bipVersion), checkout at commit \($0.bipCommit ?? "unknown")" }).sorted()
        lines.append("- Made by: " + (builds.isEmpty ? "-" : builds.joined(separator: "; ")) + " (the commit bip was built from; for runs made before builds recorded it, the checkout's HEAD when the run started).")
        let hosts = Set(runs.map(\.host)).sorted()
        lines.append("- Machine: " + (hosts.isEmpty ? "-" : hosts.joined(separator: ", ")) + ".")
        if let first = runs.map(\.startedAt).min(), let last = runs.compactMap(\.finishedAt).max() {
            lines.append("- Runs from \(first) to \(last).")
        }
        lines.append("- Data files (sha256):")
        let calibration = String(results.config.calibration.split(separator: ":").first ?? "")
        let datasets = Set(results.config.tasks.map { TaskCatalog.spec($0)?.dataset ?? $0 } + [calibration]).sorted()
        for name in datasets {
            guard let manifest = try? DatasetManifest.load(name) else { continue }
            for file in manifest.files { lines.append("  - `\(file.path)` `\(file.sha256)`") }
        }
        return lines
    }

    static func fraction(_ x: Double) -> String { String(format: "%.2f", x) }

    static func signed(_ x: Double) -> String {
        let rounded = (x * 100).rounded() / 100
        return rounded == 0 ? "0.00" : String(format: "%+.2f", rounded)
    }

    static func parameters(_ x: Double?) -> String { x.map { String(format: "%.1fM", $0 / 1e6) } ?? "-" }
}
