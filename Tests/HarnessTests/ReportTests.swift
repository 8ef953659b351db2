import Foundation
@testable import Harness
import TestSupport
import XCTest

/// The report of a sweep stored by hand: the paper's metric mix, averages, changes against
/// dense, the chance row, the tidy CSV and the plots, byte for byte the same on every rendering.
final class ReportTests: XCTestCase {
    var folder: URL!
    var store: ResultStore!

    override func setUpWithError() throws {
        folder = try temporaryFolder("report")
        store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
    }

    /// wikitext2 ppl, hellaswag (acc, acc_norm), piqa (acc, acc_norm) of each job.
    let values: [String: (Double, Double, Double, Double, Double)] = [
        "dense|0.0": (50, 0.40, 0.50, 0.70, 0.60),
        "bip|0.2": (60, 0.35, 0.45, 0.65, 0.66),
        "bip|0.4": (90, 0.30, 0.35, 0.60, 0.55),
        "flap|0.2": (70, 0.38, 0.40, 0.66, 0.50),
        "flap|0.4": (120, 0.25, 0.30, 0.55, 0.52),
    ]

    func makeSweep() throws {
        let config = SweepConfig(model: "smollm2-135m", methods: ["bip", "flap"], sparsities: [0.2, 0.4],
                                 tasks: ["wikitext2", "hellaswag", "piqa"], limit: 20, calibration: "c4:8x128")
        let sweep = try store.plan(name: "test", config: config.json, jobs: config.jobs, at: "2026-01-01T00:00:00Z")
        for var job in try store.jobs(sweepID: sweep.id!) {
            let run = try store.insert(EvalRun(
                modelPath: "/models/\(job.method)", modelSHA256: "sha-\(job.method)", parameters: 100, evalProtocol: "llm-pruner",
                options: #"{"sweep":"test"}"#, bipVersion: "0.1.0", bipCommit: "c0ffee", host: "box",
                startedAt: "2026-01-01T00:0\(job.position):00Z", finishedAt: "2026-01-01T00:0\(job.position):30Z"))
            let v = values["\(job.method)|\(job.sparsity)"]!
            try store.record([
                TaskMetric(runID: run.id!, task: "wikitext2", metric: "ppl", value: v.0, stderr: nil, n: 2540, detail: nil),
                TaskMetric(runID: run.id!, task: "hellaswag", metric: "acc", value: v.1, stderr: 0.1, n: 20, detail: nil),
                TaskMetric(runID: run.id!, task: "hellaswag", metric: "acc_norm", value: v.2, stderr: 0.11, n: 20, detail: nil),
                TaskMetric(runID: run.id!, task: "piqa", metric: "acc", value: v.3, stderr: 0.1, n: 20, detail: nil),
                TaskMetric(runID: run.id!, task: "piqa", metric: "acc_norm", value: v.4, stderr: 0.1, n: 20, detail: nil),
            ], samples: [])
            job.status = .done
            job.evalRunID = run.id
            job.parameters = job.isDense ? 134_500_000 : (job.sparsity == 0.2 ? 107_600_000 : 80_700_000)
            job.tokensPerSecond = job.isDense ? 200 : 200 / (1 - job.sparsity)
            job.denseTokensPerSecond = 200
            job.macsPerToken = 100e6 * (1 - job.sparsity)
            try store.update(job)
        }
    }

    /// A speed-up beyond 1.15 × the MAC ratio, or below 1, is marked ¶ in both tables and named
    /// in the efficiency note; one that the MACs explain is not.
    func testImplausibleSpeedupsAreMarked() throws {
        try makeSweep()
        for var job in try store.jobs(sweepID: try store.sweep(named: "test")!.id!) where !job.isDense {
            switch (job.method, job.sparsity) {
            case ("bip", 0.2): job.tokensPerSecond = 284  // MAC ratio 1.25: 1.42× is 1.136 × it, inside the allowance
            case ("bip", 0.4): job.tokensPerSecond = 200 * 2.0          // MAC ratio 1/0.6 = 1.667: 2.00× is above 1.15 × 1.667 = 1.917
            case ("flap", 0.2): job.tokensPerSecond = 180               // 0.90×: slower than dense
            default: continue
            }
            try store.update(job)
        }
        _ = try ReportWriter(store: store, sweepName: "test").write(to: folder)
        let report = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| bip | 0.20 | 107.6M | 1.42× | 60.00 |"), report)
        XCTAssertTrue(report.contains("| bip | 0.40 | 80.7M | 2.00×¶ | 90.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.20 | 107.6M | 0.90×¶ | 70.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.40 | 80.7M | 1.67× | 120.00 |"), report)
        XCTAssertTrue(report.contains("| bip | 0.40 | 80.7M | - | 60.0M | - | 400.0 | 200.0 | 2.00×¶ |"), report)
        XCTAssertTrue(report.contains("gives such values (bip @ 0.40; flap @ 0.20)."), report)
        XCTAssertTrue(report.contains("`bip sweep --resume --name test --remeasure-implausible` measures these jobs again"), report)
    }

    func testPaperTableAveragesDeltasAndChance() throws {
        try makeSweep()
        let files = try ReportWriter(store: store, sweepName: "test").write(to: folder.appendingPathComponent("out"))
        XCTAssertEqual(files.map(\.lastPathComponent), ["wikitext2-ppl.svg", "average-accuracy.svg", "report.md", "results.csv"])
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("\nacc for BoolQ, PIQA, WinoGrande, ARC-e; acc_norm for HellaSwag, ARC-c, OBQA (as LLM-Pruner and LLM-BIP report them);"), report)
        // Paper metrics: HellaSwag acc_norm, PIQA acc; average = their mean. No per-document answers
        // or windows are stored here, so nothing is tested and nothing is bold (see
        // SignificanceReportTests for the marks and the bold of results that can be told apart).
        XCTAssertTrue(report.contains("| method | sparsity | parameters | speed-up | WikiText2 | HellaSwag | PIQA | average |"), report)
        XCTAssertTrue(report.contains("| chance |  |  |  | - | 25.00 | 50.00 | 37.50 |"), report)
        XCTAssertTrue(report.contains("| majority class |  |  |  | - | - | - | - |"), report)
        XCTAssertTrue(report.contains("| dense | 0 | 134.5M | 1.00× | 50.00 | 50.00 | 70.00 | 60.00 |"), report)
        XCTAssertTrue(report.contains("| bip | 0.20 | 107.6M | 1.25× | 60.00 | 45.00 | 65.00 | 55.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.20 | 107.6M | 1.25× | 70.00 | 40.00 | 66.00 | 53.00 |"), report)
        XCTAssertTrue(report.contains("| bip | 0.40 | 80.7M | 1.67× | 90.00 | 35.00 | 60.00 | 47.50 |"), report)
        XCTAssertFalse(report.contains("** |"), report)
        XCTAssertTrue(report.contains("No paired tests: the runs stored no per-document answers or perplexity windows."), report)
        // Changes against dense.
        XCTAssertTrue(report.contains("| bip | 0.20 | 107.6M | 1.25× | +10.00 | -5.00 | -5.00 | -5.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.40 | 80.7M | 1.67× | +70.00 | -20.00 | -15.00 | -17.50 |"), report)
        // acc everywhere: HellaSwag acc; dense average (40 + 70) / 2; flap's 25% at 0.4 is HellaSwag's chance level.
        XCTAssertTrue(report.contains("| dense | 0 | 134.5M | 1.00× | 50.00 | 40.00 | 70.00 | 55.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.20 | 107.6M | 1.25× | 70.00 | 38.00 | 66.00 | 52.00 |"), report)
        XCTAssertTrue(report.contains("| flap | 0.40 | 80.7M | 1.67× | 120.00 | 25.00§ | 55.00 | 40.00 |"), report)
        XCTAssertTrue(report.contains("| bip | 0.20 | ±11.00 | ±10.00 | - | 20 |"), report)
        XCTAssertTrue(report.contains("--limit 20"), report)
        XCTAssertTrue(report.contains("bip 0.1.0, checkout at commit c0ffee"), report)
        XCTAssertTrue(report.contains("![WikiText2 perplexity against sparsity, with 95% bootstrap intervals over windows](wikitext2-ppl.svg)"), report)

        // The same database gives the same bytes.
        let again = try ReportWriter(store: store, sweepName: "test").write(to: folder.appendingPathComponent("again"))
        for (a, b) in zip(files, again) { XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), a.lastPathComponent) }
    }

    func testTidyCSV() throws {
        try makeSweep()
        _ = try ReportWriter(store: store, sweepName: "test").write(to: folder)
        let lines = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines[0], "sweep,run_id,model,method,sparsity,seed,task,metric,value,stderr,n,protocol,allocation,statistics,bias_compensation,layers,source,same_as")
        // 5 jobs × (5 metrics + parameters, MACs/token, tokens/s, dense tokens/s, speed-up).
        XCTAssertEqual(lines.count, 1 + 5 * 10)
        XCTAssertTrue(lines.contains("test,5,smollm2-135m,flap,0.4,0,efficiency,macs_per_token,60000000,,,llm-pruner,,,,,,"), "\(lines)")
        XCTAssertTrue(lines.contains("test,2,smollm2-135m,bip,0.2,0,hellaswag,acc_norm,0.45,0.11,20,llm-pruner,,,,,,"), "\(lines)")
        XCTAssertTrue(lines.contains("test,1,smollm2-135m,dense,0,0,wikitext2,ppl,50,,2540,llm-pruner,,,,,,"), "\(lines)")
        XCTAssertTrue(lines.contains("test,5,smollm2-135m,flap,0.4,0,efficiency,parameters,80700000,,,llm-pruner,,,,,,"), "\(lines)")
    }

    func testPlotsHaveALinePerMethodAndTheDenseLevel() throws {
        try makeSweep()
        _ = try ReportWriter(store: store, sweepName: "test").write(to: folder)
        let svg = try String(contentsOf: folder.appendingPathComponent("wikitext2-ppl.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertEqual(svg.components(separatedBy: "stroke-dasharray").count - 1, 2, "the dense level and its legend entry")
        for label in [">bip<", ">flap<", ">dense<", ">perplexity<", ">0.20<", ">0.40<"] { XCTAssertTrue(svg.contains(label), label) }
        // Log-scale ticks inside [50 / 1.1, 120 · 1.1] = [45.5, 132]: 1, 2, 5 × 10^k give only 50 and
        // 100, so m × 10^k with m = 1, 1.5, 2, 3, …, 9: 50, 60, 70, 80, 90, 100. From 8 to 300: 10, 20, 50, 100, 200.
        XCTAssertEqual(SVGLinePlot.logTicks(50, 120).0, [50, 60, 70, 80, 90, 100])
        XCTAssertEqual(SVGLinePlot.logTicks(8, 300).0, [10, 20, 50, 100, 200])
        // Span 12.5 -> raw step 2.5 -> step 5; ends floor(46.875 / 5) · 5 and ceil(60.625 / 5) · 5.
        XCTAssertEqual(SVGLinePlot.linearTicks(47.5, 60).0, [45, 50, 55, 60, 65])
    }

    /// A plot of more series than the palette has colors, with long names: no two series share a
    /// style, and the canvas is wide and tall enough for every legend entry.
    func testPlotLegendFitsManySeriesWithLongNames() throws {
        let styles = (0..<36).map { "\(SVGLinePlot.style($0))" }
        XCTAssertEqual(Set(styles).count, 36)
        let names = (0..<20).map { "flap (uniform, sequential, bias off) \($0)" }
        let plot = SVGLinePlot(title: "t", xLabel: "x", yLabel: "y", logY: false,
                               series: names.enumerated().map { i, name in
                                   .init(name: name, points: [.init(x: 0, y: 1), .init(x: 0.2, y: Double(i))])
                               },
                               references: [.init(label: "dense", y: 1)])
        let svg = plot.svg
        // The legend starts 16 px right of the 500-px plot (left of it 70 px), its text 34 px further,
        // at most 7.5 px a character; 21 entries 22 px apart from 52 px down.
        let longest = Double(names.map(\.count).max()!)
        let tag = svg.prefix { $0 != "\n" }
        func size(_ name: String) throws -> Double {
            let text = try XCTUnwrap(tag.components(separatedBy: " \(name)=\"").dropFirst().first)
            return try XCTUnwrap(Double(text.prefix { $0 != "\"" }))
        }
        let width = try size("width"), height = try size("height")
        XCTAssertGreaterThanOrEqual(width, 70 + 500 + 16 + 34 + 7.5 * longest)
        XCTAssertGreaterThan(height, 52 + 22 * 20)
        // The 10th series (past the 9 colors) has the first color again, with squares.
        XCTAssertTrue(svg.contains("<rect x=\"") && svg.contains("fill=\"\(SVGLinePlot.palette[0])\"/>"), svg)
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 9 * 3 + 1, "series 10-18: two points and a legend mark each; the frame")
    }

    func testUnknownSweepIsAnErrorListingTheStoredOnes() throws {
        try makeSweep()
        XCTAssertThrowsError(try ReportWriter(store: store, sweepName: "nope").write(to: folder)) { error in
            XCTAssertTrue("\(error)".contains("no sweep named 'nope' (stored: test)"), "\(error)")
        }
    }

    /// The header names the methods that prune with their paper's calibration instead of the
    /// sweep's (LLM-Pruner's 10 sequences of 64 tokens of C4), from the methods themselves.
    func testTheHeaderNamesTheMethodsWithACalibrationOfTheirOwn() {
        let both = SweepConfig(model: "m", methods: ["bip", "llm-pruner-element1", "magnitude-l2", "llm-pruner-vector"], sparsities: [0.2],
                               tasks: ["wikitext2"], calibration: "c4:128x128")
        XCTAssertEqual(MarkdownReport.ownCalibrations(both), " (`llm-pruner-element1`, `llm-pruner-vector`: their own, `c4:10x64`)")
        let none = SweepConfig(model: "m", methods: ["bip", "flap"], sparsities: [0.2], tasks: ["wikitext2"], calibration: "c4:128x128")
        XCTAssertEqual(MarkdownReport.ownCalibrations(none), "")
    }

    /// A sweep whose stored configuration this bip cannot read: the report says which database
    /// and which sweep, instead of a decoder's message.
    func testAnUnreadableStoredConfigurationNamesTheDatabaseAndTheSweep() throws {
        let folder = try temporaryFolder("report-bad-config")
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        _ = try store.plan(name: "odd", config: #"{"model":3}"#, jobs: [], at: "t")
        XCTAssertThrowsError(try ReportWriter(store: store, sweepName: "odd").write(to: folder.appendingPathComponent("out"))) { error in
            XCTAssertTrue("\(error)".contains("r.sqlite"), "\(error)")
            XCTAssertTrue("\(error)".contains("sweep 'odd' has a configuration this bip cannot read"), "\(error)")
        }
    }
}
