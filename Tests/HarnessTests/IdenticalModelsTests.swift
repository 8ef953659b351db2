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
        folder = try temporaryFolder("identical")
    }

    /// `bip` and `bip-local` remove the same units of the tiny model under their (uniform)
    /// allocation; `magnitude-l1` removes others.
    static let twins = ["bip", "bip-local"]
    static let other = "magnitude-l1"

    private func sweep(_ name: String, store: ResultStore, cache: PrunedModelCache, data: DataDirectory) throws -> (SweepRecord, SweepWorker) {
        let config = SweepConfig(model: try TinyModel.path(), methods: Self.twins + [Self.other], sparsities: [0.2],
                                 tasks: ["arc_easy", "wikitext2"], limit: 2, calibration: "c4:2x32", benchSeconds: 0)
        let sweep = try store.plan(name: name, config: config.json, jobs: config.jobs, at: "t")
        return (sweep, SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: nil, progress: { _ in }))
    }

    func testTwinsAreEvaluatedOnceAndReportedOnce() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let cache = PrunedModelCache(home: folder)
        let (sweep, runner) = try sweep("s", store: store, cache: cache, data: data)

        // Two tasks for the dense model, bip's model and magnitude-l1's: bip-local's is bip's.
        XCTAssertEqual(try runner.run(), SweepWorker.Summary(done: 4, failed: 0, tasksRun: 6))
        let jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertEqual(jobs.map(\.methodLabel), ["dense"] + Self.twins + [Self.other])
        XCTAssertNil(jobs[0].planHash)
        XCTAssertNotNil(jobs[1].planHash)
        XCTAssertEqual(jobs[2].planHash, jobs[1].planHash)
        XCTAssertNotEqual(jobs[3].planHash, jobs[1].planHash)
        XCTAssertEqual(jobs[2].evalRunID, jobs[1].evalRunID, "the twin takes the first job's evaluation run")
        XCTAssertEqual(Set(jobs.map(\.evalRunID)).count, 3)
        XCTAssertEqual(try store.runs().count, 3)
        XCTAssertEqual(try runner.run(), SweepWorker.Summary(done: 4, failed: 0, tasksRun: 0), "nothing runs again")

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

    /// A twin whose model unit failed has no evaluation run to lend: the job evaluates the model
    /// itself; the twin, tried again, finds the job's run and shares it instead of evaluating again.
    func testAJobWhoseTwinFailedEvaluatesItself() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let cache = PrunedModelCache(home: folder)
        let (sweep, failing) = try self.sweep("s", store: store, cache: cache, data: DataDirectory(url: folder.appendingPathComponent("no-data")))
        // The models made beforehand (with the calibration data), so that the jobs fail planning their tasks.
        let config = try JSONDecoder().decode(SweepConfig.self, from: Data(sweep.config.utf8))
        let models = SweepModels(config: config, data: data, cache: cache, sweepName: "s", progress: { _ in })
        for spec in config.jobs {
            var detail: PruneDetail?
            _ = try models.model(spec, detail: &detail)
        }
        XCTAssertEqual(try failing.run().failed, 4)
        var jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertTrue(jobs.allSatisfy { $0.evalRunID == nil })

        // bip stays failed; the others are tried again: bip-local evaluates the model itself.
        try store.write { statements in
            for job in jobs where job.id != jobs[1].id {
                try statements.execute("UPDATE sweep_unit SET status = 'pending', attempts = 0 WHERE job_id = $1", [.integer(job.id!)])
                try store.settleJob(job.id!, statements)
            }
        }
        let runner = SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: nil, progress: { _ in })
        XCTAssertEqual(try runner.run(), SweepWorker.Summary(done: 3, failed: 1, tasksRun: 6))
        jobs = try store.jobs(sweepID: sweep.id!)
        XCTAssertNotNil(jobs[2].evalRunID)
        XCTAssertEqual(try store.resetFailed(sweepID: sweep.id!), 1)
        XCTAssertEqual(try runner.run(), SweepWorker.Summary(done: 4, failed: 0, tasksRun: 0))
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!).map(\.evalRunID), [jobs[0].evalRunID, jobs[2].evalRunID, jobs[2].evalRunID, jobs[3].evalRunID])
    }
}
