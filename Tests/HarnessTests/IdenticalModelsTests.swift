import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// Sweep jobs whose methods removed the same units (equal removal plan hashes) on the tiny
/// model: evaluated once (the later job takes the earlier one's evaluation run), reported once
/// with both names, drawn as one line, kept per method by the gate; a different plan is
/// evaluated on its own, a twin that failed before storing a task is no twin, and the hash of a
/// model from the cache is the hash it had when made.
final class IdenticalModelsTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bip-identical-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// `bip` and `bip-local` remove the same units of the tiny model under their (uniform)
    /// allocation; `magnitude-l1` removes others.
    static let twins = ["bip", "bip-local"]
    static let other = "magnitude-l1"

    private func sweep(_ name: String, store: ResultStore, cache: PrunedModelCache, data: DataDirectory) throws -> (SweepRecord, SweepRunner) {
        let config = SweepConfig(model: try TinyModel.path(), methods: Self.twins + [Self.other], sparsities: [0.2],
                                 tasks: ["arc_easy", "wikitext2"], limit: 2, calibration: "c4:2x32", benchSeconds: 0)
        let sweep = try store.plan(name: name, config: config.json, jobs: config.jobs, at: "t")
        return (sweep, SweepRunner(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: nil, progress: { _ in }))
    }

    func testTwinsAreEvaluatedOnceAndReportedOnce() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let cache = PrunedModelCache(home: folder)
        let (sweep, runner) = try sweep("s", store: store, cache: cache, data: data)

        // Two tasks for the dense model, bip's model and magnitude-l1's: bip-local's is bip's.
        XCTAssertEqual(try runner.run(), SweepRunner.Summary(done: 4, failed: 0, tasksRun: 6))
        let jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(jobs.map(\.methodLabel), ["dense"] + Self.twins + [Self.other])
        XCTAssertNil(jobs[0].planHash)
        XCTAssertNotNil(jobs[1].planHash)
        XCTAssertEqual(jobs[2].planHash, jobs[1].planHash)
        XCTAssertNotEqual(jobs[3].planHash, jobs[1].planHash)
        XCTAssertEqual(jobs[2].evalRunID, jobs[1].evalRunID, "the twin takes the first job's evaluation run")
        XCTAssertEqual(Set(jobs.map(\.evalRunID)).count, 3)
        XCTAssertEqual(try store.runs().count, 3)
        XCTAssertEqual(try runner.run(), SweepRunner.Summary(done: 4, failed: 0, tasksRun: 0), "nothing runs again")

        // One row, with both names; one line in each plot; a CSV row per method, each naming the other.
        let results = try SweepResults.load(store, sweepName: "s")
        XCTAssertEqual(results.rows.map(\.method), ["dense", "bip = bip-local", Self.other])
        let report = MarkdownReport(results: results, plots: []).text
        XCTAssertTrue(report.contains("| bip = bip-local | 0.20 |"), report)
        XCTAssertFalse(report.contains("| bip-local |"), report)
        let plots = ReportWriter.plots(results)
        XCTAssertEqual(plots.map(\.0), ["wikitext2-ppl.svg", "average-accuracy.svg"])
        for (_, _, plot) in plots { XCTAssertEqual(plot.series.map(\.name), ["bip = bip-local", Self.other]) }
        let csv = ResultsCSV.text(results).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(csv[0].last, "same_as")
        let ppl = csv.filter { $0[6] == "wikitext2" && $0[7] == "ppl" }
        XCTAssertEqual(ppl.map { $0[3] }, ["dense"] + Self.twins + [Self.other])
        XCTAssertEqual(ppl.map { $0.last! }, ["", "bip-local", "bip", ""])
        XCTAssertEqual(ppl[1][1], ppl[2][1], "one run id")
        XCTAssertEqual(ppl[1][8], ppl[2][8])

        // The gate keeps a result per method, from the one run.
        let gate = try store.newestResults(sweep: "s").filter { $0.key.task == "wikitext2" && $0.key.metric == "ppl" }
        XCTAssertEqual(gate.map(\.key.method).sorted(), (["dense", Self.other] + Self.twins).sorted())
        let byMethod = Dictionary(uniqueKeysWithValues: gate.map { ($0.key.method, $0) })
        XCTAssertEqual(byMethod["bip-local"]?.runID, jobs[1].evalRunID)
        XCTAssertEqual(byMethod["bip-local"]?.value, byMethod["bip"]?.value)

        // The models again, from the cache, in another sweep: the same hashes.
        let (again, rerun) = try self.sweep("s2", store: store, cache: cache, data: data)
        XCTAssertEqual(try rerun.run().tasksRun, 6)
        XCTAssertEqual(try store.jobs(sweepID: again.id!).map(\.planHash), jobs.map(\.planHash))
    }

    /// A twin that failed before storing a task is no twin: the job evaluates the model itself.
    /// A twin that failed after storing a task lends the job its run, which the job completes;
    /// the twin, tried again, finds its run complete.
    func testAJobWhoseTwinFailedEvaluatesItself() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let cache = PrunedModelCache(home: folder)
        let (sweep, failing) = try self.sweep("s", store: store, cache: cache, data: DataDirectory(url: folder.appendingPathComponent("no-data")))
        // The models made beforehand (with the calibration data), so that the jobs fail in their evaluation.
        let config = try JSONDecoder().decode(SweepConfig.self, from: Data(sweep.config.utf8))
        let models = SweepModels(config: config, data: data, cache: cache, sweepName: "s", progress: { _ in })
        for spec in config.jobs {
            var detail: PruneDetail?
            _ = try models.model(spec, detail: &detail)
        }

        XCTAssertEqual(try failing.run().failed, 4)
        var jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(jobs[2].planHash, jobs[1].planHash)
        XCTAssertNotNil(jobs[2].evalRunID)
        XCTAssertNotEqual(jobs[2].evalRunID, jobs[1].evalRunID, "its twin stored no task: a run of its own")

        // Now bip's run has a task stored; bip stays failed, the others are tried again, bip-local afresh.
        try store.record([TaskMetric(runID: jobs[1].evalRunID!, task: "arc_easy", metric: "acc", value: 0.5, stderr: nil, n: 2, detail: nil)],
                         samples: [])
        jobs[2].evalRunID = nil
        for i in [0, 2, 3] {
            jobs[i].status = .pending
            try store.update(jobs[i])
        }
        let runner = SweepRunner(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: nil, progress: { _ in })
        // The dense model's 2 tasks, the missing task of bip's run (by bip-local), magnitude-l1's 2.
        XCTAssertEqual(try runner.run(), SweepRunner.Summary(done: 3, failed: 0, tasksRun: 5))
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[2].evalRunID, jobs[1].evalRunID)
        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 1)
        XCTAssertEqual(try runner.run(), SweepRunner.Summary(done: 4, failed: 0, tasksRun: 0))
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.evalRunID), [jobs[0].evalRunID, jobs[1].evalRunID, jobs[1].evalRunID, jobs[3].evalRunID])
    }
}
