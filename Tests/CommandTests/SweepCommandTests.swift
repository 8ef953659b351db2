import Foundation
import Harness
import TestSupport
import XCTest

/// `bip sweep`, `bip report` and `bip gate` on the tiny model with tiny limits: a sweep killed
/// with SIGKILL or interrupted with Ctrl-C resumes without repeating or losing a task, two sweeps
/// share one database, a failing job is recorded and retried, and the gate catches a regression.
final class SweepCommandTests: XCTestCase {
    var folder: URL!
    var environment: [String: String] = [:]
    var model = ""

    override func setUpWithError() throws {
        folder = try temporaryFolder("sweep")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        // A fresh BIP_HOME, so the pruned-model cache starts empty.
        environment = ["BIP_HOME": home.path, "BIP_DATA": try TestModel.dataDirectory().path]
        model = try TinyModel.path()
    }

    var tiny: [String] {
        ["--model", model, "--methods", "magnitude-l2", "--sparsities", "0.2", "--tasks", "wikitext2,arc_easy,piqa", "--limit", "3",
         "--bench-seconds", "0"]
    }

    func sweep(_ arguments: [String], db: String) throws -> BipExecutable.Outcome {
        try BipExecutable.run(["sweep"] + arguments + ["--db", db], environment: environment)
    }

    /// Waits until the database holds at least `count` task metrics (or the process ends).
    func waitForMetrics(_ db: String, atLeast count: Int, while process: Process) throws {
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline {
            if try metricCount(db) >= count { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The task metrics stored in `db` so far (0 while it cannot be read).
    func metricCount(_ db: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: db), let store = try? ResultStore(path: db), let runs = try? store.runs() else { return 0 }
        return try runs.reduce(0) { $0 + (try store.metrics(runID: $1.id!).count) }
    }

    /// Every task metric of the database as `method task metric value` lines, sorted.
    func results(_ db: String) throws -> [String] {
        let store = try ResultStore(path: db)
        var lines: [String] = []
        for sweep in try store.sweeps() {
            for job in try store.jobs(sweepID: sweep.id!) {
                XCTAssertEqual(job.status, .done, "\(job.method): \(job.error ?? "")")
                for m in try store.metrics(runID: try XCTUnwrap(job.evalRunID)) {
                    lines.append("\(job.methodLabel) \(m.task) \(m.metric) \(m.value) \(m.n)")
                    let samples = try store.samples(runID: job.evalRunID!, task: m.task)
                    XCTAssertEqual(samples.count, m.task == "wikitext2" ? 0 : 3, "\(job.method) \(m.task)")
                }
            }
        }
        return lines.sorted()
    }

    func testKilledAndInterruptedSweepsResumeWithoutRepeatsOrLosses() throws {
        // Each job's throughput is measured (half a second of `bip bench` in a child process)
        // before its tasks, so that the tiny model's sweep still lasts long enough to be killed
        // and interrupted mid-way.
        let tiny = Array(self.tiny.dropLast(2)) + ["--bench-seconds", "0.5"]
        let clean = folder.appendingPathComponent("clean.sqlite").path
        let outcome = try sweep(tiny, db: clean)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("2 of 2 jobs done, 0 failed; 6 tasks evaluated"), outcome.stdout)
        let expected = try results(clean)
        XCTAssertEqual(expected.count, 2 * 5)

        // Killed with SIGKILL after the first task is stored, then Ctrl-C after the fourth, then resumed.
        let db = folder.appendingPathComponent("killed.sqlite").path
        let first = try BipExecutable.start(["sweep"] + tiny + ["--db", db], environment: environment)
        try waitForMetrics(db, atLeast: 1, while: first)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)

        // The second process is interrupted only once it has stored a metric of its own (so it is
        // past installing its handler), however far the first one got before it was killed.
        let killedAt = try metricCount(db)
        let log = folder.appendingPathComponent("second")
        let second = try BipExecutable.start(["sweep"] + tiny + ["--resume", "--db", db], environment: environment, log: log)
        try waitForMetrics(db, atLeast: max(5, killedAt + 1), while: second)
        kill(second.processIdentifier, SIGINT)
        second.waitUntilExit()
        if second.terminationReason == .uncaughtSignal || second.terminationStatus != 0 {
            XCTAssertEqual(second.terminationStatus, 130)
            let stderr = try String(contentsOf: URL(fileURLWithPath: log.path + ".err"), encoding: .utf8)
            XCTAssertTrue(stderr.contains("interrupted: every finished task is stored"), stderr)
            // The interrupted job is handed back, not left running as if the process had died in it.
            let store = try ResultStore(path: db)
            for sweep in try store.sweeps() {
                for job in try store.jobs(sweepID: sweep.id!) { XCTAssertNotEqual(job.status, .running, job.methodLabel) }
            }
        }

        let third = try sweep(tiny + ["--resume"], db: db)
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertEqual(try results(db), expected, "the same numbers as the uninterrupted sweep, each stored once")
        let again = try sweep(tiny, db: db)
        XCTAssertTrue(again.stdout.contains("2 of 2 jobs done, 0 failed; 0 tasks evaluated"), again.stdout)

        // The report and the gate on that database.
        let report = try BipExecutable.run(["report", "--db", db, "--output", folder.appendingPathComponent("report").path])
        XCTAssertEqual(report.status, 0, report.stderr)
        let markdown = try String(contentsOf: folder.appendingPathComponent("report/report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("| magnitude-l2 | 0.20 | 0.1M |"), markdown)
        let baseline = folder.appendingPathComponent("baseline.json").path
        XCTAssertEqual(try BipExecutable.run(["gate", "--db", db, "--baseline", baseline, "--write-baseline"]).status, 0)
        let pass = try BipExecutable.run(["gate", "--db", db, "--baseline", baseline])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("gate passed: 10 results within tolerance"), pass.stdout)
        // A baseline 5% better in perplexity than now: the gate fails and says which.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: baseline))) as! [String: Any]
        var entries = json["entries"] as! [[String: Any]]
        for i in entries.indices where (entries[i]["key"] as! [String: Any])["metric"] as! String == "ppl" {
            entries[i]["value"] = (entries[i]["value"] as! Double) / 1.05
        }
        json["entries"] = entries
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: baseline))
        let fail = try BipExecutable.run(["gate", "--db", db, "--baseline", baseline])
        XCTAssertEqual(fail.status, 1)
        XCTAssertTrue(fail.stdout.contains("regression dense wikitext2 ppl (limit 3)"), fail.stdout)
        XCTAssertTrue(fail.stdout.contains("gate FAILED: 2 of 10"), fail.stdout)
    }

    func testTwoProcessesShareOneSweep() throws {
        let db = folder.appendingPathComponent("shared.sqlite").path
        let arguments = ["sweep", "--model", model, "--methods", "random,magnitude-l2", "--sparsities", "0.2", "--tasks", "arc_easy,piqa",
                         "--limit", "3", "--shard-size", "1", "--bench-seconds", "0", "--name", "both", "--db", db]
        let processes = try (0..<2).map { try BipExecutable.start(arguments, environment: environment, log: folder.appendingPathComponent("p\($0)")) }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(processes.map(\.terminationStatus), [0, 0])
        XCTAssertEqual(try results(db).count, 3 * 2 * 2, "three jobs × two tasks × (acc, acc_norm), each once")
        let store = try ResultStore(path: db)
        let units = try store.units(sweepID: XCTUnwrap(try store.sweep(named: "both")?.id))
        XCTAssertEqual(units.count, 3 * (1 + 2 * 3))
        XCTAssertTrue(units.allSatisfy { $0.status == .done && $0.attempts == 1 }, "each unit run once")
    }

    func testTwoSweepsWriteOneDatabaseAtOnce() throws {
        let db = folder.appendingPathComponent("shared.sqlite").path
        let a = try BipExecutable.start(["sweep", "--model", model, "--methods", "magnitude-l1", "--sparsities", "0.2", "--tasks", "arc_easy,piqa",
                                         "--limit", "3", "--bench-seconds", "0", "--db", db], environment: environment)
        let b = try BipExecutable.start(["sweep", "--model", model, "--methods", "random", "--sparsities", "0.2", "--tasks", "arc_easy,piqa",
                                         "--limit", "3", "--bench-seconds", "0", "--db", db], environment: environment)
        a.waitUntilExit()
        b.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0)
        XCTAssertEqual(b.terminationStatus, 0)
        let store = try ResultStore(path: db)
        XCTAssertEqual(try store.sweeps().count, 2)
        let lines = try results(db)
        XCTAssertEqual(lines.count, 2 * 2 * 4, "two sweeps × two jobs × (acc, acc_norm) × two tasks")
        XCTAssertEqual(lines.filter { $0.hasPrefix("dense") }.count, 8, "each sweep has its own dense run")
    }

    func testAFailingJobIsRecordedTheSweepGoesOnAndRetryRunsIt() throws {
        let db = folder.appendingPathComponent("failing.sqlite").path
        let arguments = ["--model", model, "--methods", "magnitude-l2", "--sparsities", "0.95,0.2", "--tasks", "arc_easy", "--limit", "2",
                         "--bench-seconds", "0", "--name", "failing"]
        let outcome = try sweep(arguments, db: db)
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stdout.contains("2 of 3 jobs done, 1 failed"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("largest reachable"), outcome.stdout)
        let store = try ResultStore(path: db)
        let jobs = try store.jobs(sweepID: try XCTUnwrap(try store.sweep(named: "failing")).id!)
        XCTAssertEqual(jobs.map(\.status), [.done, .failed, .done])
        let retry = try sweep(["--name", "failing", "--retry-failed"], db: db)
        XCTAssertEqual(retry.status, 1)
        // The failing job's model unit was tried twice again; the done jobs were left alone.
        XCTAssertEqual(try store.jobs(sweepID: jobs[0].sweepID).map(\.attempts), [1, 2, 1])
        XCTAssertEqual(try store.jobs(sweepID: jobs[0].sweepID).map(\.status), [.done, .failed, .done])
        // A name that is not stored, and a configuration file with a wrong field.
        let missing = try sweep(["--resume", "--name", "nope"], db: db)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no sweep named 'nope' (stored: failing)"), missing.stderr)
        let config = folder.appendingPathComponent("sweep.json")
        try Data(#"{"methods": ["bip"], "sparsities": "0.2"}"#.utf8).write(to: config)
        let bad = try sweep(["--config", config.path], db: db)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("\(config.path): not a sweep configuration: field 'sparsities' has the wrong type"), bad.stderr)
    }

    func testTuneAddsATunedVariantOfEveryPrunedModel() throws {
        let db = folder.appendingPathComponent("tuned.sqlite").path
        let config = folder.appendingPathComponent("tune.json")
        try """
        {"model": "\(model)", "methods": ["magnitude-l2"], "sparsities": [0.2], "tasks": ["wikitext2"], "limit": 2, "bench_seconds": 0,
         "tune": {"data": "c4", "held_out": 4,
                  "options": {"max_steps": 2, "batch": 2, "micro_batch": 1, "cutoff": 32, "warmup": 1, "lr": 0.001}}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let report = folder.appendingPathComponent("report")
        let first = try sweep(["--config", config.path, "--report", report.path], db: db)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("3 of 3 jobs done, 0 failed; 3 tasks evaluated"), first.stdout)
        XCTAssertTrue(first.stderr.contains("magnitude-l2 w/ tune @ 0.20 seed 0: tune: step 2/2"), first.stderr)
        let lines = try results(db)
        let pruned = try XCTUnwrap(lines.first { $0.hasPrefix("magnitude-l2 wikitext2 ppl ") })
        let tuned = try XCTUnwrap(lines.first { $0.hasPrefix("magnitude-l2 w/ tune wikitext2 ppl ") })
        XCTAssertNotEqual(pruned.dropFirst("magnitude-l2 ".count), tuned.dropFirst("magnitude-l2 w/ tune ".count), "tuning changed the perplexity")
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("| magnitude-l2 w/ tune | 0.20 | 0.1M |"), markdown)
        XCTAssertTrue(markdown.contains("--tune \\\n    --tune-data c4"), markdown)
        // The same sweep under another name finds both models in the cache: nothing is pruned or tuned again.
        let again = try sweep(["--config", config.path, "--name", "again"], db: db)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("w/ tune @ 0.20 seed 0: tuned model cached"), again.stderr)
        XCTAssertFalse(again.stderr.contains("tune: step"), again.stderr)
    }

    /// Two sweeps (two cluster workers on one file system) make the same pruned and tuned models
    /// at the same time in one cache: both succeed with the same numbers, and the cache ends with
    /// each model once and no half-written directory.
    func testTwoSweepsMakeTheSameModelsInOneCacheAtOnce() throws {
        let config = folder.appendingPathComponent("tune.json")
        try """
        {"model": "\(model)", "methods": ["magnitude-l2"], "sparsities": [0.2], "tasks": ["wikitext2"], "limit": 2, "bench_seconds": 0,
         "tune": {"data": "c4", "held_out": 4,
                  "options": {"max_steps": 2, "batch": 2, "micro_batch": 1, "cutoff": 32, "warmup": 1, "lr": 0.001}}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let dbs = ["a", "b"].map { folder.appendingPathComponent("\($0).sqlite").path }
        let processes = try dbs.map { try BipExecutable.start(["sweep", "--config", config.path, "--db", $0], environment: environment) }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(processes.map(\.terminationStatus), [0, 0])
        XCTAssertEqual(try results(dbs[0]), try results(dbs[1]))
        let cache = URL(fileURLWithPath: environment["BIP_HOME"]!).appendingPathComponent("pruned")
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        XCTAssertEqual(names.filter { !$0.hasPrefix(".") }.count, 2, "the pruned and the tuned model, once each: \(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix(".") && !$0.hasSuffix(".tuning.lock") }, [], "no temporary directory left")
    }
}
