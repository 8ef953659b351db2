import Foundation
import GRDB
@testable import Harness
import Runtime
import TestSupport
import XCTest

/// The sweep tables: the plan, job updates, failed-job reset, and the newest result per key with
/// per-document answers for the gate.
final class SweepStoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("sweeps")
    }

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

    /// A bf16 run's results have keys of their own (the gate never compares them with fp32's);
    /// an fp32 run's key is the one it had before the precision was stored.
    func testTheComputePrecisionIsPartOfTheResultKey() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("c.sqlite").path)
        for compute in [nil, #""compute":"bf16","#] {
            let options = "{" + (compute ?? "") + #""data":"/d","limit":3,"seq_len":128,"tasks":["wikitext2"]}"#
            let id = try store.insert(EvalRun(modelPath: "/p", modelSHA256: "sha", parameters: 1, evalProtocol: "llm-pruner",
                                              options: options, bipVersion: "0", bipCommit: nil, host: "h", startedAt: "t")).id!
            try store.record([TaskMetric(runID: id, task: "wikitext2", metric: "ppl", value: 40, stderr: nil, n: 300, detail: nil)], samples: [])
        }
        let keys = try store.newestResults().map(\.key)
        XCTAssertEqual(keys.map(\.compute), [nil, .bf16])
        XCTAssertEqual(keys[0], ResultKey(modelSHA256: "sha", method: "dense", sparsity: 0, seed: 0, evalProtocol: "llm-pruner",
                                          limit: 3, task: "wikitext2", metric: "ppl"))
        XCTAssertEqual(keys[1].label, "dense wikitext2 ppl (limit 3) (bf16)")
        let encoded = try JSONEncoder().encode(keys[1])
        XCTAssertEqual(try JSONDecoder().decode(ResultKey.self, from: encoded), keys[1])
    }

    /// A database of the v2 schema, where a tuned variant was its method with " w/ tune", opens
    /// with the flag in its own column and reports the same rows; the prune detail stored as
    /// text then reads back as a `PruneDetail`.
    func testOldTunedJobsMoveTheirSuffixIntoTheColumn() throws {
        let path = folder.appendingPathComponent("old.sqlite").path
        let detail = #"{"attention_mlp_sparsity":0.25,"layers":[{"ffn":1015,"heads":6,"kv_heads":3}],"parameters_after":75,"#
            + #""parameters_before":100,"seconds":{"total":4.5},"sparsity_reached":0.25}"#
        do {
            let queue = try DatabaseQueue(path: path)
            try ResultStore.migrator.migrate(queue, upTo: "v2: sweeps and their jobs")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO sweep (id, name, config, created_at) VALUES (1, 's', '{}', 't')")
                for (position, method) in ["dense", "bip", "bip w/ tune"].enumerated() {
                    try db.execute(sql: """
                        INSERT INTO sweep_job (sweep_id, position, method, sparsity, seed, status, attempts, prune_detail)
                        VALUES (1, ?, ?, ?, 0, 'done', 1, ?)
                        """, arguments: [position, method, position == 0 ? 0 : 0.2, position == 0 ? nil : detail])
                }
            }
        }
        let store = try ResultStore(path: path)
        let jobs = try store.jobs(sweepID: 1)
        XCTAssertEqual(jobs.map(\.method), ["dense", "bip", "bip"])
        XCTAssertEqual(jobs.map(\.tuned), [false, false, true])
        XCTAssertEqual(jobs.map(\.methodLabel), ["dense", "bip", "bip w/ tune"])
        XCTAssertEqual(jobs[2].spec.label, "bip w/ tune @ 0.20 seed 0")
        XCTAssertEqual(jobs[1].pruneDetail, PruneDetail(sparsityReached: 0.25, attentionMLPSparsity: 0.25, parametersBefore: 100,
                                                        parametersAfter: 75, layers: [.init(heads: 6, kvHeads: 3, ffn: 1015)],
                                                        seconds: ["total": 4.5]))
        // Written back, the detail is the same text.
        try store.update(jobs[1])
        XCTAssertEqual(try store.read { try $0.query("SELECT prune_detail FROM sweep_job WHERE position = 1", []) }.first?["prune_detail"], .text(detail))
        // The tuned variant and its pruned model are two jobs of one sweep, as planned now.
        let config = SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["piqa"], tune: SweepTune())
        let planned = try store.plan(name: "new", config: config.json, jobs: config.jobs, at: "t")
        XCTAssertEqual(try store.jobs(sweepID: planned.id!).map(\.methodLabel), ["dense", "bip", "bip w/ tune"])
    }
}
