import Foundation
import Runtime
import Synchronization
import Harness
import TestSupport
import XCTest

final class ResultStoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("store")
    }

    func run() -> EvalRun {
        EvalRun(modelPath: "/m.gguf", modelSHA256: "abc", parameters: 10, evalProtocol: "llm-pruner", options: "{}",
                bipVersion: "0.1.0", bipCommit: nil, host: "h", startedAt: "2026-01-01T00:00:00Z")
    }

    func testRunsMetricsAndSamplesRoundTrip() throws {
        let path = folder.appendingPathComponent("r.sqlite").path
        let store = try ResultStore(path: path)
        let run = try store.insert(run())
        let metrics = [TaskMetric(runID: run.id!, task: "piqa", metric: "acc", value: 0.5, stderr: 0.1, n: 4, detail: "{}")]
        let samples = [DocumentSample(runID: run.id!, task: "piqa", docIndex: 0, loglikelihoods: "[-1,-2]", isGreedy: "[true,false]",
                                      continuationTokens: "[3,4]", gold: 0, predictionAcc: 0, predictionAccNorm: 1),
                       DocumentSample(runID: run.id!, task: "piqa", docIndex: 1, loglikelihoods: "[-3,-2]",
                                      continuationTokens: "[1,1]", gold: 1, predictionAcc: 1, predictionAccNorm: 1)]
        try store.record(metrics, samples: samples)
        try store.finish(runID: run.id!, at: "2026-01-01T00:01:00Z")
        // A second process opening the same file sees everything.
        let reopened = try ResultStore(path: path)
        XCTAssertEqual(try reopened.runs().map(\.finishedAt), ["2026-01-01T00:01:00Z"])
        XCTAssertEqual(try reopened.metrics(runID: run.id!), metrics)
        XCTAssertEqual(try reopened.samples(runID: run.id!, task: "piqa"), samples)
    }

    func testAFailedTaskWriteLeavesNothingOfThatTask() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let run = try store.insert(run())
        let good = TaskMetric(runID: run.id!, task: "boolq", metric: "acc", value: 0.5, stderr: nil, n: 2, detail: nil)
        // The sample refers to a run that does not exist: the foreign key fails inside the transaction.
        let bad = DocumentSample(runID: 999, task: "boolq", docIndex: 0, loglikelihoods: "[]", continuationTokens: "[]",
                                 gold: 0, predictionAcc: 0, predictionAccNorm: nil)
        XCTAssertThrowsError(try store.record([good], samples: [bad]))
        XCTAssertEqual(try store.metrics(runID: run.id!), [], "the task's metric rolled back with its samples")
    }

    func testACorruptedDatabaseIsAnErrorNamingTheFile() throws {
        let path = folder.appendingPathComponent("broken.sqlite").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ResultStore(path: path)) { error in
            let store = error as? FileError
            XCTAssertEqual(store?.file, path)
            XCTAssertTrue("\(error)".contains("not a database"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(repeating: 0x42, count: 8192), "the file is left as it was")
    }

    func testManyOpenersOfOneNewFileAllSucceed() throws {
        // Each new file is switched to WAL and migrated by eight openers at once, as when several
        // sweeps start together on a new database; SQLite answers some of them "locked" at once.
        for round in 0..<40 {
            let path = folder.appendingPathComponent("new-\(round).sqlite").path
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do { _ = try ResultStore(path: path) } catch { failures.withLock { $0.append("\(error)") } }
            }
            XCTAssertEqual(failures.withLock { $0 }, [], "round \(round)")
            XCTAssertEqual(try ResultStore(path: path).runs(), [])
        }
    }
}
