import Foundation
@testable import Harness
import XCTest

/// The sweep tables: the plan, job updates, failed-job reset, and the newest result per key with
/// per-document answers for the gate.
final class SweepStoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bip-sweeps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testPlanUpdateAndRetry() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("s.sqlite").path)
        let config = SweepConfig(model: "m", methods: ["bip"], sparsities: [0.1, 0.2], tasks: ["piqa"])
        let sweep = try store.plan(name: "s", config: config.json, jobs: config.jobs, at: "t")
        XCTAssertThrowsError(try store.plan(name: "s", config: config.json, jobs: config.jobs, at: "t"), "names are unique")
        var jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(jobs.map(\.method), ["dense", "bip", "bip"])
        XCTAssertEqual(jobs.map(\.status), [.pending, .pending, .pending])
        jobs[1].status = .failed
        jobs[1].error = "boom"
        try store.update(jobs[1])
        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 1)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.status), [.pending, .pending, .pending])
        XCTAssertEqual(try store.sweep(named: "s")?.config, config.json)
    }

    func testNewestResultPerKeyWithAnswers() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("s.sqlite").path)
        func run(_ options: String) throws -> Int64 {
            try store.insert(EvalRun(modelPath: "/p", modelSHA256: "pruned-sha", parameters: 1, evalProtocol: "llm-pruner",
                                     options: options, bipVersion: "0", bipCommit: nil, host: "h", startedAt: "t")).id!
        }
        let options = #"{"limit":3,"method":"bip","seed":0,"source_sha256":"src","sparsity":0.2,"sweep":"s"}"#
        for (value, predictions) in [(0.0, [1, 1, 1]), (2.0 / 3, [0, 1, 1])] {
            let id = try run(options)
            try store.record([TaskMetric(runID: id, task: "piqa", metric: "acc", value: value, stderr: 0.3, n: 3, detail: nil)],
                             samples: predictions.enumerated().map {
                                 DocumentSample(runID: id, task: "piqa", docIndex: $0.offset, loglikelihoods: "[]",
                                                continuationTokens: "[]", gold: 0, predictionAcc: $0.element, predictionAccNorm: nil)
                             })
        }
        let dense = try run(#"{"limit":3}"#)
        try store.record([TaskMetric(runID: dense, task: "wikitext2", metric: "ppl", value: 40, stderr: nil, n: 300, detail: nil)], samples: [])
        let results = try store.newestResults()
        XCTAssertEqual(results.count, 2)
        let piqa = try XCTUnwrap(results.first { $0.key.task == "piqa" })
        XCTAssertEqual(piqa.key, ResultKey(modelSHA256: "src", method: "bip", sparsity: 0.2, seed: 0, evalProtocol: "llm-pruner",
                                           limit: 3, task: "piqa", metric: "acc"))
        XCTAssertEqual(piqa.value, 2.0 / 3, "the newest run wins")
        XCTAssertEqual(piqa.correct, "100", "gold 0: only document 0 predicted 0")
        let ppl = try XCTUnwrap(results.first { $0.key.task == "wikitext2" })
        XCTAssertEqual(ppl.key.method, "dense")
        XCTAssertEqual(ppl.key.modelSHA256, "pruned-sha", "a run outside a sweep is keyed by its own model")
        XCTAssertEqual(try store.newestResults(sweep: "other").count, 0)
    }
}
