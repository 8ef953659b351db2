import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// Claims of sweep units in a SQLite store (PostgreSQL: `PostgresStoreTests` and the worker tests
/// of CommandTests): plan order; a lease that runs out hands the unit to another worker and the
/// first worker's late result is discarded; a dead worker of this host loses its claim at once;
/// a unit whose worker died twice is failed; a failing shard is tried again, then recorded
/// failed with its error, and the others go on.
final class UnitClaimTests: XCTestCase {
    var folder: URL!
    var store: ResultStore!
    var sweep: SweepRecord!

    override func setUpWithError() throws {
        folder = try temporaryFolder("claims")
        store = try ResultStore(path: folder.appendingPathComponent("claims.sqlite").path)
        let config = SweepConfig(model: "m", methods: ["random"], sparsities: [0.2], tasks: ["arc_easy"], limit: 4, benchSeconds: 0)
        sweep = try store.plan(name: "s", config: config.json, jobs: config.jobs, at: "t")
    }

    let here = WorkerIdentity(name: "a", host: ProcessInfo.processInfo.hostName, pid: Int(getpid()))
    let elsewhere = WorkerIdentity(name: "b", host: "node-b", pid: 1)

    /// Claims the next unit for `worker` and checks it is the unit expected.
    private func claim(_ worker: WorkerIdentity, lease: Double = 300, _ expected: String?, file: StaticString = #filePath,
                       line: UInt = #line) throws -> UnitClaim? {
        let claim = try store.claimUnit(sweepID: sweep.id!, worker: worker, lease: lease)
        XCTAssertEqual(claim.map { "\($0.job.method) \($0.unit.label)" }, expected, file: file, line: line)
        return claim
    }

    /// Completes a job's model unit with made-up facts: 4 documents of arc_easy in shards of 2.
    private func completeModel(_ claim: UnitClaim) throws {
        let run = EvalRun(modelPath: "m", modelSHA256: "0", parameters: 1, evalProtocol: "llm-pruner", options: "{}", bipVersion: "t",
                          bipCommit: nil, host: "h", startedAt: "t")
        let facts = JobModelFacts(modelPath: "m", parameters: 1, macsPerToken: 1, planHash: "\(claim.job.method)", pruneDetail: nil,
                                  newRun: run, taskItems: [(task: "arc_easy", count: 4)], shardSize: 2, measuresThroughput: false)
        XCTAssertNotNil(try store.completeModelUnit(claim, facts: facts, seconds: 1))
    }

    /// The outcome of an arc_easy shard: every document answered with choice 0, gold 0.
    private func outcome(_ claim: UnitClaim) throws -> ShardOutcome {
        let shard = try XCTUnwrap(claim.unit.shard)
        return ShardOutcome(shard: shard, samples: shard.items.map {
            TaskOutcome.Sample(task: "arc_easy", docIndex: $0, loglikelihoods: [-1, -2], isGreedy: [false, $0 == 1], continuationTokens: [1, 1], gold: 0,
                               predictionAcc: 0, predictionAccNorm: $0 % 2)
        }, windows: [], tokensRun: 10, naiveTokens: 20, seconds: 0.5)
    }

    func testClaimsInPlanOrderAndALateResultIsDiscarded() throws {
        let dense = try XCTUnwrap(try claim(here, "dense model"))
        // The dense job's shards do not exist before its model unit is done: the next is random's model.
        let random = try XCTUnwrap(try claim(elsewhere, "random model"))
        XCTAssertNil(try claim(elsewhere, nil), "both units are claimed")
        try completeModel(dense)
        try completeModel(random)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.status), [.pending, .pending])

        // Worker b's lease runs out; worker a takes the shard over; b's result comes too late.
        let late = try XCTUnwrap(try claim(elsewhere, lease: 0.05, "dense arc_easy shard 1"))
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[0].status, .running)
        Thread.sleep(forTimeInterval: 0.1)
        let taker = try XCTUnwrap(try claim(here, "dense arc_easy shard 1"))
        XCTAssertEqual(taker.unit.attempts, 2)
        guard case .lost = try store.completeShardUnit(late, outcome: outcome(late)) else { return XCTFail("a lost claim stored its result") }
        XCTAssertFalse(try store.renew(late, lease: 300))
        XCTAssertFalse(try store.failUnit(late, error: "late"))
        let runID = try XCTUnwrap(try store.jobs(sweepID: sweep.id!)[0].evalRunID)
        XCTAssertTrue(try store.samples(runID: runID, task: "arc_easy").isEmpty)
        XCTAssertTrue(try store.renew(taker, lease: 300))
        guard case .stored = try store.completeShardUnit(taker, outcome: outcome(taker)) else { return XCTFail("the taker's result is stored") }
        XCTAssertEqual(try store.samples(runID: runID, task: "arc_easy").map(\.docIndex), [0, 1])
    }

    func testTheClaimOfAWorkerOfThisHostThatEndedIsTakenAtOnce() throws {
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let gone = WorkerIdentity(name: "gone", host: here.host, pid: Int(ended.processIdentifier))
        _ = try XCTUnwrap(try claim(gone, "dense model"))
        let elsewhereTooSoon = try XCTUnwrap(try claim(elsewhere, "random model"), "another host cannot know: the next unit")
        _ = elsewhereTooSoon
        let retaken = try XCTUnwrap(try claim(here, "dense model"), "this host sees the process has ended")
        XCTAssertEqual(retaken.unit.attempts, 2)
        XCTAssertEqual(retaken.unit.worker, "a")
    }

    func testAUnitWhoseWorkerDiedTwiceIsFailed() throws {
        _ = try claim(elsewhere, lease: 0.01, "dense model")
        Thread.sleep(forTimeInterval: 0.05)
        _ = try claim(elsewhere, lease: 0.01, "dense model")
        Thread.sleep(forTimeInterval: 0.05)
        // The third claim finds it died in twice: failed, and the next unit is claimed instead.
        _ = try claim(here, "random model")
        let dense = try store.jobs(sweepID: sweep.id!)[0]
        XCTAssertEqual(dense.status, .failed)
        XCTAssertTrue(dense.error?.hasPrefix("the worker died during this unit 2 times (last: b on node-b)") == true, dense.error ?? "")
        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 1)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[0].status, .pending)
        XCTAssertNotNil(try claim(here, "dense model"))
    }

    func testAFailingShardIsTriedAgainThenFailedAndTheOthersGoOn() throws {
        try completeModel(XCTUnwrap(try claim(here, "dense model")))
        for attempt in 1...2 {
            let shard = try XCTUnwrap(try claim(here, "dense arc_easy shard 1"))
            XCTAssertEqual(shard.unit.attempts, attempt)
            XCTAssertTrue(try store.failUnit(shard, error: "boom \(attempt)"))
        }
        let job = try store.jobs(sweepID: sweep.id!)[0]
        XCTAssertEqual(job.status, .failed)
        XCTAssertEqual(job.error, "arc_easy shard 1: boom 2")
        // The job's other shard still runs; the task is not combined without its first shard.
        let second = try XCTUnwrap(try claim(here, "dense arc_easy shard 2"))
        guard case .stored = try store.completeShardUnit(second, outcome: outcome(second)) else { return XCTFail("stored and not combined") }
        XCTAssertTrue(try store.metrics(runID: XCTUnwrap(job.evalRunID)).isEmpty)

        // Tried again: the task is combined from both shards' stored documents.
        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 1)
        let first = try XCTUnwrap(try claim(here, "dense arc_easy shard 1"))
        XCTAssertEqual(first.unit.attempts, 1)
        guard case .taskDone(let task) = try store.completeShardUnit(first, outcome: outcome(first)) else { return XCTFail("not combined") }
        let metrics = try store.metrics(runID: XCTUnwrap(job.evalRunID))
        XCTAssertEqual(metrics.map(\.metric), ["acc", "acc_norm"])
        XCTAssertEqual(metrics.map(\.value), [1, 0.5])
        XCTAssertEqual(task.detail["documents"], 4)
        XCTAssertEqual(task.detail["tokens_run"], 20)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[0].status, .done)
        XCTAssertNotNil(try store.run(id: XCTUnwrap(job.evalRunID))?.finishedAt)
    }
}
