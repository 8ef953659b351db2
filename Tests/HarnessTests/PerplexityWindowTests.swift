import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// The per-window perplexity results: stored with the task's metric in one transaction, read back
/// in order, and giving back the stored perplexity exactly.
final class PerplexityWindowTests: XCTestCase {
    var folder: URL!
    var store: ResultStore!

    override func setUpWithError() throws {
        folder = try temporaryFolder("windows")
        store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
    }

    func newRun() throws -> Int64 {
        try store.insert(EvalRun(modelPath: "/m.gguf", modelSHA256: "abc", parameters: 10, evalProtocol: "llm-pruner", options: "{}",
                                 bipVersion: "0.1.0", bipCommit: nil, host: "h", startedAt: "2026-01-01T00:00:00Z")).id!
    }

    func testWindowsRoundTripInOrderAndRollBackWithTheirTask() throws {
        let id = try newRun()
        let windows = [3, 0, 2, 1].map { PerplexityWindow(runID: id, task: "ptb", windowIndex: $0, nllSum: 500 + Double($0) / 3, tokens: 127) }
        let metric = TaskMetric(runID: id, task: "ptb", metric: "ppl", value: 50, stderr: nil, n: 508, detail: nil)
        try store.record([metric], samples: [], windows: windows)
        XCTAssertEqual(try store.windows(runID: id, task: "ptb"), windows.sorted { $0.windowIndex < $1.windowIndex })
        XCTAssertEqual(try store.windows(runID: id, task: "wikitext2"), [])
        // A window of a run that does not exist fails the foreign key: the task's metric rolls back too.
        let other = TaskMetric(runID: id, task: "wikitext2", metric: "ppl", value: 60, stderr: nil, n: 127, detail: nil)
        XCTAssertThrowsError(try store.record([other], samples: [], windows: [
            PerplexityWindow(runID: 999, task: "wikitext2", windowIndex: 0, nllSum: 1, tokens: 127),
        ]))
        XCTAssertEqual(try store.metrics(runID: id), [metric])
    }

    /// The tiny model on 40 windows of WikiText2: the stored windows' NLL sums, added in window
    /// order, give back the stored perplexity bit for bit.
    func testStoredWindowsGiveBackTheStoredPerplexityExactly() throws {
        let loaded = try TinyModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: DataDirectory(url: try TestModel.dataDirectory()))
        evaluation.windowLimit = 40
        evaluation.seqLen = 32
        let id = try newRun()
        let outcome = try evaluation.run("wikitext2")
        XCTAssertEqual(outcome.windows.count, 40)
        try store.record(outcome, runID: id)
        let stored = try store.windows(runID: id, task: "wikitext2")
        XCTAssertEqual(stored.map(\.windowIndex), Array(0..<40))
        XCTAssertEqual(Set(stored.map(\.tokens)), [31])
        XCTAssertEqual(stored.map(\.nllSum), outcome.windows.map(\.nllSum))
        let ppl = try XCTUnwrap(store.metrics(runID: id).first { $0.metric == "ppl" })
        XCTAssertEqual(ppl.n, 40 * 31)
        XCTAssertEqual(PerplexityWindow.perplexity(of: stored), ppl.value, "bit for bit")
        XCTAssertTrue(stored.allSatisfy { $0.nllSum > 0 })
    }
}
