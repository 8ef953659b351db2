import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// `SweepWorker` in this process, on the tiny test model, with a throughput probe that
/// returns fixed figures: the stored figures, options and prune detail, and a run that fails
/// (the data missing: each job's model unit fails twice, then is recorded failed) and runs again.
final class SweepWorkerTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("runner")
    }

    /// dense + magnitude-l2 at 0.2 on the tiny model, two ARC-Easy documents, planned in a new store.
    func plannedSweep(benchRounds: Int) throws -> (model: String, data: DataDirectory, config: SweepConfig, store: ResultStore, sweep: SweepRecord) {
        let model = try TinyModel.path()
        let config = SweepConfig(model: model, methods: ["magnitude-l2"], sparsities: [0.2], tasks: ["arc_easy"], limit: 2,
                                 benchSeconds: 0.5, benchRounds: benchRounds)
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let sweep = try store.plan(name: "s", config: config.json, jobs: config.jobs, at: "t")
        return (model, DataDirectory(url: try TestModel.dataDirectory()), config, store, sweep)
    }

    func testFiguresFromTheProbeAndResumeAfterAFailure() throws {
        let (model, data, config, store, sweep) = try plannedSweep(benchRounds: 2)
        // Dense alone: 100 tokens/s; a pruned model: 150 against the dense model's 120.
        let probe: ThroughputProbe = { path, against, seconds, _ in
            XCTAssertEqual(seconds, 0.5)
            guard let against else { return ThroughputFigures(tokensPerSecond: 100, againstTokensPerSecond: nil, peakMemoryBytes: 1000) }
            XCTAssertEqual(against, model)
            XCTAssertNotEqual(path, model)
            return ThroughputFigures(tokensPerSecond: 150, againstTokensPerSecond: 120, peakMemoryBytes: 800)
        }
        let cache = PrunedModelCache(home: folder)
        func runner(_ data: DataDirectory) -> SweepWorker {
            SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: probe, progress: { _ in })
        }

        // Without the task's data every job's model unit fails (its tasks cannot be planned), is
        // tried again, and fails for good; no evaluation run is started.
        let failing = try runner(DataDirectory(url: folder.appendingPathComponent("no-data"))).run()
        XCTAssertEqual(failing, SweepWorker.Summary(done: 0, failed: 2, tasksRun: 0))
        let failed = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(failed.map(\.status), [.failed, .failed])
        XCTAssertTrue(failed.allSatisfy { $0.evalRunID == nil && $0.attempts == ResultStore.maxAttempts })
        XCTAssertTrue(failed[0].error?.hasSuffix("ARC-Easy-Test.jsonl: missing") == true, failed[0].error ?? "")

        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 2)
        let summary = try runner(data).run()
        XCTAssertEqual(summary, SweepWorker.Summary(done: 2, failed: 0, tasksRun: 2))
        let jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(jobs.map(\.status), [.done, .done])
        XCTAssertEqual(jobs.map(\.attempts), [1, 1], "a reset starts counting again")
        XCTAssertEqual(jobs.map(\.tokensPerSecond), [100, 150])
        XCTAssertEqual(jobs.map(\.denseTokensPerSecond), [100, 120])
        XCTAssertEqual(jobs.map(\.peakMemoryBytes), [1000, 800])
        XCTAssertEqual(jobs[1].speedup, 1.25)
        XCTAssertNil(jobs[0].pruneDetail)
        let detail = try XCTUnwrap(jobs[1].pruneDetail)
        XCTAssertEqual(detail.parametersBefore, jobs[0].parameters)
        XCTAssertEqual(detail.parametersAfter, jobs[1].parameters)
        XCTAssertEqual(detail.sparsityReached, 1 - Double(detail.parametersAfter) / Double(detail.parametersBefore))
        XCTAssertNil(detail.seconds["total"], "pruned in the failed attempt, so found in the cache now: no seconds of its own")
        XCTAssertEqual(try store.metrics(runID: jobs[1].evalRunID!).map(\.metric).sorted(), ["acc", "acc_norm"])

        // The run's options.
        let dense = try XCTUnwrap(try store.run(id: jobs[0].evalRunID!))
        let started = data.url.path.replacingOccurrences(of: "/", with: "\\/")
        let sha = try XCTUnwrap(try JSONDecoder().decode(EvaluationOptions.self, from: Data(dense.options.utf8)).sweep?.sourceSHA256)
        XCTAssertEqual(dense.options, #"{"calibration":null,"data":"\#(started)","limit":2,"#
                       + #""method":"dense","protocol":"llm-pruner","seed":0,"seq_len":128,"source_sha256":"\#(sha)","sparsity":0,"#
                       + #""sweep":"s","tasks":["arc_easy"],"tune":null}"#)
        let pruned = try JSONDecoder().decode(EvaluationOptions.self, from: Data(try XCTUnwrap(try store.run(id: jobs[1].evalRunID!)).options.utf8))
        XCTAssertEqual(pruned.sweep?.calibration, config.calibration)
        XCTAssertEqual(pruned.sweep?.method, "magnitude-l2")

        // Everything done: nothing runs again.
        XCTAssertEqual(try runner(data).run(), SweepWorker.Summary(done: 2, failed: 0, tasksRun: 0))
    }

    /// `--remeasure` (and a bench unit on another host) finds each model where this machine
    /// keeps it, making it again when the cache lacks it, instead of the path its model unit
    /// stored. The probe fails, as `bip bench` would, on a path that does not exist.
    func testRemeasureMakesAModelTheCacheNoLongerHolds() throws {
        let (_, data, config, store, sweep) = try plannedSweep(benchRounds: 1)
        // The pruned model runs at 150 tokens/s in the sweep and at 180 when measured again.
        nonisolated(unsafe) var pruned = 150.0
        let probe: ThroughputProbe = { path, against, _, _ in
            guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "missing") }
            return ThroughputFigures(tokensPerSecond: against == nil ? 100 : pruned, againstTokensPerSecond: against == nil ? nil : 120,
                                     peakMemoryBytes: 800)
        }
        let cache = PrunedModelCache(home: folder)
        let worker = { SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: probe, progress: { _ in }) }
        XCTAssertEqual(try worker().run(), SweepWorker.Summary(done: 2, failed: 0, tasksRun: 2))
        let stored = try XCTUnwrap(try store.jobs(sweepID: sweep.id!)[1].modelPath)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.tokensPerSecond), [100, 150])

        try FileManager.default.removeItem(at: cache.directory)
        pruned = 180
        try worker().remeasure()
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.tokensPerSecond), [100, 180])
        XCTAssertTrue(FileManager.default.fileExists(atPath: stored), "made again at its place in the cache")
    }

    /// `--remeasure-implausible` measures again only a pruned job whose speed-up its MACs cannot
    /// explain (below 1, or above 1.15 × the MAC ratio), as the report marks it.
    func testRemeasureImplausibleOnlyTouchesJobsTheReportMarks() throws {
        let (_, data, config, store, sweep) = try plannedSweep(benchRounds: 1)
        // Measured again: 130 tokens/s against the dense model's 120 (1.08×, plausible for any MACs).
        let probe: ThroughputProbe = { _, against, _, _ in
            ThroughputFigures(tokensPerSecond: against == nil ? 100 : 130, againstTokensPerSecond: against == nil ? nil : 120,
                              peakMemoryBytes: 800)
        }
        let worker = SweepWorker(store: store, sweep: sweep, config: config, data: data, probe: probe, progress: { _ in })
        XCTAssertEqual(try worker.run(), SweepWorker.Summary(done: 2, failed: 0, tasksRun: 2))
        func pruned() throws -> SweepJob { try store.jobs(sweepID: sweep.id!)[1] }
        let ratio = try XCTUnwrap(try store.jobs(sweepID: sweep.id!)[0].macsPerToken) / XCTUnwrap(try pruned().macsPerToken)
        func stored(tokensPerSecond: Double) throws {
            var job = try pruned()
            (job.tokensPerSecond, job.denseTokensPerSecond) = (tokensPerSecond, 100)
            try store.update(job)
        }
        var dense = try store.jobs(sweepID: sweep.id!)[0]
        dense.tokensPerSecond = 77
        try store.update(dense)
        for (tokensPerSecond, implausible) in [(100 * ratio * 1.14, false), (100 * ratio * 1.16, true), (99, true), (100, false)] {
            try stored(tokensPerSecond: tokensPerSecond)
            try worker.remeasure(.implausible)
            XCTAssertEqual(try pruned().tokensPerSecond, implausible ? 130 : tokensPerSecond, "\(tokensPerSecond)")
            XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[0].tokensPerSecond, 77, "the dense job is not measured again")
        }
    }
}
