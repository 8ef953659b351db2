import Foundation
@testable import Harness
import TestSupport
import XCTest

/// A report on a hand-made sweep with per-document answers and perplexity windows: significance
/// marks after Holm's correction, ties shown unbolded or all bolded, the chance and majority
/// rows, the flag at or below chance, the note on skewed answers, intervals in the plots, and
/// the same bytes on a second rendering.
final class SignificanceReportTests: XCTestCase {
    var folder: URL!
    var store: ResultStore!

    override func setUpWithError() throws {
        folder = try temporaryFolder("significance")
        store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
    }

    static let documents = 200, windows = 60

    /// BoolQ: golds 1 on the first 124 documents (a 62% majority). dense right on i % 4 != 0 (75%);
    /// bip answers 1 everywhere (62%); flap too but for the last document (62.5%); wanda-sp right
    /// on i % 5 == 0 only (20%, below chance).
    static func boolq(_ method: String, _ i: Int) -> (gold: Int, answer: Int) {
        let gold = i < 124 ? 1 : 0
        switch method {
        case "dense": return (gold, i % 4 != 0 ? gold : 1 - gold)
        case "bip": return (gold, 1)
        case "flap": return (gold, i == 199 ? 0 : 1)
        default: return (gold, i % 5 == 0 ? gold : 1 - gold)
        }
    }

    /// PIQA: golds alternate. dense right on i % 10 < 6 (60%); each pruned model also wrong on a
    /// few of those: bip on i % 20 == 0 (55%), flap on i % 25 == 0 (56%), wanda-sp on i % 40 == 0 (57.5%).
    static func piqa(_ method: String, _ i: Int) -> (gold: Int, answer: Int) {
        let gold = i % 2
        var right = i % 10 < 6
        switch method {
        case "bip": right = right && i % 20 != 0
        case "flap": right = right && i % 25 != 0
        case "wanda-sp": right = right && i % 40 != 0
        default: break
        }
        return (gold, right ? gold : 1 - gold)
    }

    /// WikiText2 windows of 127 tokens: bip about 0.3 nats per token above dense, flap bip's
    /// windows moved by ±0.2 summing to 0, wanda-sp 1 nat per token above dense.
    static func nll(_ method: String, _ i: Int) -> Double {
        let dense = 127 * 4 + 20 * Double((i * 7) % 11 - 5)
        let bip = dense + 127 * 0.3 + 5 * Double((i * 3) % 7 - 3)
        switch method {
        case "dense": return dense
        case "bip": return bip
        case "flap": return bip + 0.2 * Double((i * 5) % 3 - 1)
        default: return dense + 127
        }
    }

    /// The sweep: bip, flap and wanda-sp at 0.2, and `variants` (whose models answer as their method's).
    func makeSweep(nll: (String, Int) -> Double = SignificanceReportTests.nll, variants: [SweepVariant]? = nil) throws {
        let config = SweepConfig(model: "smollm2-135m", methods: ["bip", "flap", "wanda-sp"], sparsities: [0.2],
                                 tasks: ["wikitext2", "boolq", "piqa"], limit: Self.documents, calibration: "c4:8x128",
                                 variants: variants)
        let sweep = try store.plan(name: "sig", config: config.json, jobs: config.jobs, at: "2026-01-01T00:00:00Z")
        for var job in try store.jobs(sweepID: sweep.id!) {
            let id = try store.insert(EvalRun(
                modelPath: "/models/\(job.method)", modelSHA256: "sha-\(job.method)", parameters: 100, evalProtocol: "llm-pruner",
                options: #"{"sweep":"sig"}"#, bipVersion: "0.1.0", bipCommit: "c0ffee", host: "box",
                startedAt: "2026-01-01T00:0\(job.position):00Z", finishedAt: "2026-01-01T00:0\(job.position):30Z")).id!
            let windows = (0..<Self.windows).map {
                PerplexityWindow(runID: id, task: "wikitext2", windowIndex: $0, nllSum: nll(job.method, $0), tokens: 127)
            }
            try store.record([TaskMetric(runID: id, task: "wikitext2", metric: "ppl", value: PerplexityWindow.perplexity(of: windows),
                                         stderr: nil, n: Self.windows * 127, detail: nil)], samples: [], windows: windows)
            for (task, answers) in [("boolq", Self.boolq), ("piqa", Self.piqa)] {
                let samples = (0..<Self.documents).map { i -> DocumentSample in
                    let (gold, answer) = answers(job.method, i)
                    return DocumentSample(runID: id, task: task, docIndex: i, loglikelihoods: answer == 0 ? "[-1,-2]" : "[-2,-1]",
                                          continuationTokens: "[1,1]", gold: gold, predictionAcc: answer,
                                          predictionAccNorm: task == "piqa" ? answer : nil)
                }
                let accuracy = Double(samples.count { $0.gold == $0.predictionAcc }) / Double(Self.documents)
                try store.record((task == "piqa" ? ["acc", "acc_norm"] : ["acc"]).map {
                    TaskMetric(runID: id, task: task, metric: $0, value: accuracy, stderr: 0.03, n: Self.documents, detail: nil)
                }, samples: samples)
            }
            job.status = .done
            job.evalRunID = id
            try store.update(job)
        }
    }

    /// The standing summary's words: sparsities grouped by verdict, a sparsity whose corpora
    /// disagree spelled out, "every" (or "any") sparsity for one verdict throughout, untested rows named.
    func testStandingSummaryPutsFindingsInWords() {
        typealias F = StandingSummary.Finding
        // p = 0.001 is significant, 0.5 is not; WikiText2 and PTB are lower-is-better.
        func ppl(_ s: Double, _ column: String, bip: Double, other: Double, p: Double?) -> F {
            F(baseline: "flap", sparsity: s, column: column, bip: bip, other: other, lowerIsBetter: true, p: p)
        }
        let perplexity = [ppl(0.1, "WikiText2", bip: 85, other: 76, p: 0.001), ppl(0.1, "PTB", bip: 138, other: 119, p: 0.001),
                          ppl(0.2, "WikiText2", bip: 192, other: 142, p: 0.001), ppl(0.2, "PTB", bip: 319, other: 220, p: 0.001),
                          ppl(0.3, "WikiText2", bip: 363, other: 418, p: 0.001), ppl(0.3, "PTB", bip: 551, other: 538, p: 0.5),
                          ppl(0.5, "WikiText2", bip: 2675, other: 1564, p: 0.001), ppl(0.5, "PTB", bip: 4189, other: 1891, p: 0.001)]
        XCTAssertEqual(StandingSummary.words(perplexity),
                       "bip worse at 0.10, 0.20 and 0.50; at 0.30, bip better on WikiText2 and no significant difference on PTB")
        let averages = [0.1, 0.2, 0.3, 0.5].map { F(baseline: "flap", sparsity: $0, column: "average", bip: 45, other: 44, lowerIsBetter: false, p: 0.5) }
        XCTAssertEqual(StandingSummary.words(averages), "no significant difference at any sparsity")
        // Higher accuracy with p at the level is better; a row that could not be paired is untested.
        let mixed = [F(baseline: "x", sparsity: 0.2, column: "average", bip: 45, other: 40, lowerIsBetter: false, p: SignificanceTable.alpha),
                     F(baseline: "x", sparsity: 0.5, column: "average", bip: 35, other: 30, lowerIsBetter: false, p: nil)]
        XCTAssertEqual(StandingSummary.words(mixed), "bip better at 0.20; not tested at 0.50")
        XCTAssertEqual(StandingSummary.tally(perplexity + mixed),
                       "bip better in 2, bip worse in 6, no significant difference in 1 of 10 comparisons "
                       + "(1 not tested: rows of several seeds or without per-document evidence)")
    }

    /// An ablation setting of a baseline (wanda-sp with one-shot statistics) is in the tables but
    /// not among the baselines that the standing summary compares `bip` with.
    func testStandingSummaryComparesBipWithBaselinesInTheirPaperSetting() throws {
        try makeSweep(variants: [SweepVariant(method: "wanda-sp", sparsities: [0.2], statistics: .oneShot)])
        try ReportWriter(store: store, sweepName: "sig").write(to: folder.appendingPathComponent("out"))
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| wanda-sp (one-shot) | 0.20 | - | - | 148.80†‡ |"), report)
        XCTAssertTrue(report.contains("Holm-corrected over the 4 comparisons of this section"), report)
        XCTAssertTrue(report.contains("- **wanda-sp**. Perplexity: bip better at 0.20."), report)
        XCTAssertFalse(report.contains("- **wanda-sp (one-shot)**"), report)
    }

    /// A collapsed model: wanda-sp's windows average 8000 nats per token, so its perplexity
    /// overflows to inf. The report says so in its tables, leaves the point out of the plot
    /// (whose log axis would otherwise never end), and still tests the finite rows.
    func testAnInfinitePerplexityIsReportedAndLeftOutOfThePlot() throws {
        try makeSweep { method, i in method == "wanda-sp" ? 127 * 8000 : Self.nll(method, i) }
        try ReportWriter(store: store, sweepName: "sig").write(to: folder.appendingPathComponent("out"))
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| wanda-sp | 0.20 | - | - | inf†‡ |"), report)
        XCTAssertTrue(report.contains("| bip | 0.20 | - | - | **73.85**† |"), report)
        let plot = try String(contentsOf: folder.appendingPathComponent("out/wikitext2-ppl.svg"), encoding: .utf8)
        XCTAssertFalse(plot.contains("inf") || plot.contains("nan"), plot)
        XCTAssertTrue(plot.contains(">bip = flap<") || plot.contains(">bip<"), plot)
        XCTAssertFalse(plot.contains(">wanda-sp<"), "a line of no placeable point has no legend entry")
    }

    func testMarksTiesChanceMajoritySkewAndSameBytes() throws {
        try makeSweep()
        let files = try ReportWriter(store: store, sweepName: "sig").write(to: folder.appendingPathComponent("out"))
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        // The reference rows: chance 1/2 on both tasks; majority 124 of 200 golds on BoolQ, half on PIQA.
        XCTAssertTrue(report.contains("| chance |  |  |  | - | 50.00 | 50.00 | 50.00 |"), report)
        XCTAssertTrue(report.contains("| majority class |  |  |  | - | 62.00 | 50.00 | 56.00 |"), report)
        // WikiText2: bip and flap tie (flap's windows differ by ±0.2 nats summing to 0) and both are
        // significantly above dense; wanda-sp is significantly worse than them: bip and flap bold.
        // BoolQ: bip and flap differ on one document, both bold; wanda-sp (20%) below chance, flagged.
        // PIQA: all within a few documents of each other: a tie, nothing bold; bip's 10 documents
        // lost against dense (b = 10, c = 0) stay significant after Holm.
        XCTAssertTrue(report.contains("| bip | 0.20 | - | - | **73.85**† | **62.00** | 55.00† | **58.50**† |"), report)
        XCTAssertTrue(report.contains("| flap | 0.20 | - | - | **73.85**† | **62.50** | 56.00 | **59.25**† |"), report)
        XCTAssertTrue(report.contains("| wanda-sp | 0.20 | - | - | 148.80†‡ | 20.00†‡§ | 57.50 | 38.75†‡§ |"), report)
        XCTAssertTrue(report.contains("| wanda-sp | 0.20 | - | - | +94.06†‡ | -55.00†‡ | -2.50 | -28.75†‡ |"), report)
        XCTAssertTrue(report.contains("Holm's method"), report)
        XCTAssertTrue(report.contains("shown only where at least one value there is significantly worse (a tie of all is no bold)"), report)
        // The p-values behind the marks. BoolQ, flap against wanda-sp: b = 100 (flap right only), c = 15.
        XCTAssertTrue(report.contains("after Holm's correction over the 20 distinct comparisons of the table."), report)
        XCTAssertTrue(report.contains("| wanda-sp | 0.20 | <0.001 / <0.001 | <0.001 / <0.001 | 0.375 / 1.000 | <0.001 / <0.001 |"), report)
        // Where LLM-BIP stands: against flap a tie in both columns (WikiText2's windows differ by
        // nothing on average); against wanda-sp better in both.
        XCTAssertTrue(report.contains("Holm-corrected over the 4 comparisons of this section"), report)
        XCTAssertTrue(report.contains("In all: perplexity, bip better in 1, bip worse in 0, no significant difference in 1 of 2 comparisons; "
                                      + "average accuracy, bip better in 1, bip worse in 0, no significant difference in 1 of 2 comparisons."), report)
        XCTAssertTrue(report.contains("- **flap**. Perplexity: no significant difference at 0.20. Average accuracy: no significant difference at 0.20. "
                                      + "Tally: bip better in 0, bip worse in 0, no significant difference in 2 of 2 comparisons."), report)
        XCTAssertTrue(report.contains("  - at 0.20: WikiText2 73.85 against 73.85, no significant difference, p = 1.000; average 58.50 against 59.25, no significant difference, p = "), report)
        XCTAssertTrue(report.contains("- **wanda-sp**. Perplexity: bip better at 0.20. Average accuracy: bip better at 0.20. "
                                      + "Tally: bip better in 2, bip worse in 0, no significant difference in 0 of 2 comparisons."), report)
        XCTAssertTrue(report.contains("  - at 0.20: WikiText2 73.85 against 148.80, bip better, p < 0.001; average 58.50 against 38.75, bip better, p < 0.001."), report)
        // The skew: bip answers 1 on every document, flap on all but one.
        XCTAssertTrue(report.contains("- bip @ 0.20, BoolQ: picks answer 1 for 100.0% of the documents; the majority class is 62.0% of them."), report)
        XCTAssertTrue(report.contains("- flap @ 0.20, BoolQ: picks answer 1 for 99.5% of the documents; the majority class is 62.0% of them."), report)
        XCTAssertFalse(report.contains("- dense @") || report.contains("- dense,") || report.contains("- wanda-sp @ 0.20, BoolQ"), report)
        // The average's interval over documents contains the average.
        XCTAssertTrue(report.contains("| bip | 0.20 | ±3.00 | ±3.00 | 53.50–63.00 | 200 |"), report)

        // The plots: an error bar per point (4 models + the dense start of 3 lines), the dense and chance levels.
        let ppl = try String(contentsOf: folder.appendingPathComponent("out/wikitext2-ppl.svg"), encoding: .utf8)
        XCTAssertEqual(ppl.components(separatedBy: "<path d=").count - 1, 6, ppl)
        XCTAssertTrue(ppl.contains(">dense<"))
        let accuracy = try String(contentsOf: folder.appendingPathComponent("out/average-accuracy.svg"), encoding: .utf8)
        XCTAssertEqual(accuracy.components(separatedBy: "<path d=").count - 1, 6, accuracy)
        XCTAssertTrue(accuracy.contains(">chance<") && accuracy.contains("stroke-dasharray=\"2 3\""), accuracy)

        let again = try ReportWriter(store: store, sweepName: "sig").write(to: folder.appendingPathComponent("again"))
        for (a, b) in zip(files, again) { XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), a.lastPathComponent) }
    }
}
