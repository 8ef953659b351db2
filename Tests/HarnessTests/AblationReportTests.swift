import Foundation
@testable import Harness
import TestSupport
import XCTest

/// The report's ablation table on a hand-made sweep: `bip` at 0.2 in its four settings of
/// statistics × bias compensation, WikiText2 only. Sequential without bias is best; sequential
/// with bias ties it (its windows differ by ±0.2 nats summing to 0); both one-shot settings are
/// significantly worse; the paper's setting (one-shot, bias off) is starred.
final class AblationReportTests: XCTestCase {
    var folder: URL!
    var store: ResultStore!

    override func setUpWithError() throws {
        folder = try temporaryFolder("ablation")
        store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
    }

    /// Window i's NLL sum (127 tokens) under each job's label.
    static func nll(_ label: String, _ i: Int) -> Double {
        let base = 127 * 4 + 20 * Double((i * 7) % 11 - 5)
        switch label {
        case "bip": return base + 127 * 0.3
        case "bip (bias on)": return base + 127 * 0.5
        case "bip (sequential)": return base + 127 * 0.1
        case "bip (sequential, bias on)": return base + 127 * 0.1 + 0.2 * Double((i * 5) % 3 - 1)
        default: return base
        }
    }

    func testTheFourSettingsOfAMethodFormOneLineWithItsTests() throws {
        let json = """
        {"model": "smollm2-135m", "tasks": ["wikitext2"], "limit": 60, "calibration": "c4:8x128",
         "variants": [{"method": "bip", "sparsities": [0.2]}, {"method": "bip", "sparsities": [0.2], "bias_compensation": true},
                      {"method": "bip", "sparsities": [0.2], "statistics": "sequential"},
                      {"method": "bip", "sparsities": [0.2], "statistics": "sequential", "bias_compensation": true}]}
        """
        let path = folder.appendingPathComponent("sweep.json")
        try json.write(to: path, atomically: true, encoding: .utf8)
        let config = try SweepConfig.load(path.path)
        let sweep = try store.plan(name: "ablation", config: config.json, jobs: config.jobs, at: "2026-01-01T00:00:00Z")
        var perplexity: [String: Double] = [:]
        for var job in try store.jobs(sweepID: sweep.id!) {
            let id = try store.insert(EvalRun(
                modelPath: "/models/\(job.position)", modelSHA256: "sha-\(job.position)", parameters: 100, evalProtocol: "llm-pruner",
                options: #"{"sweep":"ablation"}"#, bipVersion: "0.1.0", bipCommit: "c0ffee", host: "box",
                startedAt: "2026-01-01T00:0\(job.position):00Z", finishedAt: "2026-01-01T00:0\(job.position):30Z")).id!
            let windows = (0..<60).map {
                PerplexityWindow(runID: id, task: "wikitext2", windowIndex: $0, nllSum: Self.nll(job.methodLabel, $0), tokens: 127)
            }
            perplexity[job.methodLabel] = PerplexityWindow.perplexity(of: windows)
            try store.record([TaskMetric(runID: id, task: "wikitext2", metric: "ppl", value: perplexity[job.methodLabel]!,
                                         stderr: nil, n: 60 * 127, detail: nil)], samples: [], windows: windows)
            job.status = .done
            job.evalRunID = id
            try store.update(job)
        }
        XCTAssertEqual(perplexity.count, 5, "dense and the four settings")
        try ReportWriter(store: store, sweepName: "ablation").write(to: folder.appendingPathComponent("out"))
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        let cell = { (label: String) in String(format: "%.2f", perplexity[label]!) }
        XCTAssertTrue(report.contains("## Ablation: one-shot or sequential statistics, bias compensation off or on"), report)
        XCTAssertTrue(report.contains("Holm-corrected over the 3 comparisons of this table"), report)
        XCTAssertTrue(report.contains("| method | sparsity | one-shot, bias off | one-shot, bias on | sequential, bias off | sequential, bias on |"), report)
        XCTAssertTrue(report.contains("| bip | 0.20 | \(cell("bip"))‡\\* | \(cell("bip (bias on)"))‡ | **\(cell("bip (sequential)"))** | "
                                      + "**\(cell("bip (sequential, bias on)"))** |"), report)
    }
}
