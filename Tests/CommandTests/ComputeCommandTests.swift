import Foundation
import Harness
import Runtime
import TestSupport
import XCTest

/// `--compute bf16` on the tiny model: `bip eval` stores the precision with its run (an fp32
/// run's options stay as they were), its numbers are near fp32's but not fp32's, and a precision
/// bip does not have is refused.
final class ComputeCommandTests: XCTestCase {
    func testEvalStoresItsComputePrecision() throws {
        try XCTSkipUnless(ComputePrecision.bf16.isAvailable, "oneDNN has no BF16 matmul on this CPU (no AVX-512)")
        let folder = try temporaryFolder("compute")
        let database = folder.appendingPathComponent("r.sqlite").path
        func perplexity(_ extra: [String]) throws -> Double {
            let outcome = try BipExecutable.run(["eval", "--model", try TinyModel.path(), "--tasks", "wikitext2", "--limit", "6",
                                                 "--data", try TestModel.dataDirectory().path, "--db", database, "--json"] + extra)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
            let task = try XCTUnwrap((json["tasks"] as? [String: Any])?["wikitext2"] as? [String: Any])
            return try XCTUnwrap(task["ppl"] as? Double)
        }
        let fp32 = try perplexity([]), bf16 = try perplexity(["--compute", "bf16"])
        XCTAssertNotEqual(bf16, fp32)
        XCTAssertEqual(bf16, fp32, accuracy: 0.01 * fp32)
        let options = try ResultStore(path: database).runs().map(\.options)
        XCTAssertEqual(options.count, 2)
        XCTAssertFalse(options[0].contains("compute"), options[0])
        XCTAssertTrue(options[1].contains(#""compute":"bf16""#), options[1])
    }

    func testAnUnknownPrecisionIsRefused() throws {
        let refused = try BipExecutable.run(["eval", "--model", try TinyModel.path(), "--compute", "fp16"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("fp32") && refused.stderr.contains("bf16"), refused.stderr)
    }

    /// A bf16 sweep: every run stores the precision, its throughput is measured in bf16 (the
    /// probe's child `bip bench` gets `--compute`), and it prunes exactly as the fp32 sweep does
    /// (the cached pruned model is reused).
    func testASweepEvaluatesInItsComputePrecisionAndPrunesInFP32() throws {
        try XCTSkipUnless(ComputePrecision.bf16.isAvailable, "oneDNN has no BF16 matmul on this CPU (no AVX-512)")
        let folder = try temporaryFolder("compute-sweep")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("home"), withIntermediateDirectories: true)
        let environment = ["BIP_HOME": folder.appendingPathComponent("home").path, "BIP_DATA": try TestModel.dataDirectory().path]
        let db = folder.appendingPathComponent("s.sqlite").path
        for compute in ["fp32", "bf16"] {
            let outcome = try BipExecutable.run(["sweep", "--model", try TinyModel.path(), "--methods", "magnitude-l2", "--sparsities", "0.2",
                                                 "--tasks", "wikitext2,piqa", "--limit", "3", "--bench-seconds", "0.5",
                                                 "--compute", compute, "--name", compute, "--db", db], environment: environment)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            if compute == "bf16" { XCTAssertTrue(outcome.stderr.contains("pruned model cached at"), outcome.stderr) }
        }
        let store = try ResultStore(path: db)
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 4)
        for run in runs {
            let options = try JSONDecoder().decode(EvaluationOptions.self, from: Data(run.options.utf8))
            XCTAssertEqual(options.compute, options.sweep?.name == "bf16" ? .bf16 : nil, run.options)
        }
        let keys = Set(try store.newestResults().map(\.key))
        XCTAssertEqual(Set(keys.map(\.compute)), [nil, .bf16])
        XCTAssertEqual(keys.filter { $0.compute == .bf16 }.count, keys.count / 2, "each result once in each precision: \(keys)")
        for sweep in ["fp32", "bf16"] {
            let jobs = try store.jobs(sweepID: try XCTUnwrap(store.sweep(named: sweep)?.id))
            XCTAssertTrue(jobs.allSatisfy { $0.tokensPerSecond != nil }, "throughput measured in \(sweep)")
        }
    }
}
