import Foundation
import Harness
import TestSupport
import XCTest

/// `bip` with `--db postgres://…` (and `BIP_DB`), on a real server (`BIP_TEST_POSTGRES_URL`), each
/// test in a database of its own: the tiny model's sweep stores on PostgreSQL the numbers it
/// stores on SQLite; the same results in either store give byte-identical `bip report` files and
/// `bip gate` output; `eval` and `runs`; processes opening a new database at once; clear errors
/// for a bad URL and a refused port.
final class PostgresCommandTests: XCTestCase {
    var folder: URL!
    var environment: [String: String] = [:]
    var model = ""

    override func setUpWithError() throws {
        folder = try temporaryFolder("pgcommand")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        environment = ["BIP_HOME": home.path, "BIP_DATA": try TestModel.dataDirectory().path]
        model = try TinyModel.path()
    }

    var tiny: [String] {
        ["--model", model, "--methods", "magnitude-l2", "--sparsities", "0.2", "--tasks", "wikitext2,arc_easy,piqa", "--limit", "3",
         "--bench-seconds", "0"]
    }

    func bip(_ arguments: [String], db: String) throws -> BipExecutable.Outcome {
        try BipExecutable.run(arguments + ["--db", db], environment: environment)
    }

    func results(_ db: String) throws -> [String] { try storedNumbers(db) }

    /// Copies every run with its results, and every sweep with its jobs, from `source` into the
    /// empty `target`, keeping their ids.
    func copy(_ source: ResultStore, into target: ResultStore) throws {
        for run in try source.runs() {
            XCTAssertEqual(try target.insert(run).id, run.id)
            let metrics = try source.metrics(runID: run.id!)
            for task in Set(metrics.map(\.task)).sorted() {
                try target.record(metrics.filter { $0.task == task }, samples: try source.samples(runID: run.id!, task: task),
                                  windows: try source.windows(runID: run.id!, task: task))
            }
        }
        for sweep in try source.sweeps() {
            let jobs = try source.jobs(sweepID: sweep.id!)
            XCTAssertEqual(try target.plan(name: sweep.name, config: sweep.config, jobs: jobs.map(\.spec), at: sweep.createdAt).id, sweep.id)
            for job in jobs { try target.update(job) }
        }
    }

    /// Every file under `directory`, by relative path.
    func files(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: directory.path).sorted() {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: url)
            }
        }
        return files
    }

    func testTheSameSweepOnSQLiteAndOnPostgres() throws {
        let sqlite = folder.appendingPathComponent("bip.sqlite").path
        let swept = try postgres().url
        for db in [sqlite, swept] {
            let outcome = try bip(["sweep"] + tiny, db: db)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            XCTAssertTrue(outcome.stdout.contains("2 of 2 jobs done, 0 failed; 6 tasks evaluated"), outcome.stdout)
        }
        let expected = try results(sqlite)
        XCTAssertEqual(expected.count, 2 * (5 + 4 * 3 + 3), "both jobs' metrics, answers (3 per accuracy) and windows")
        XCTAssertEqual(try results(swept), expected, "the same numbers, bit for bit")
        let again = try bip(["sweep"] + tiny, db: swept)
        XCTAssertTrue(again.stdout.contains("2 of 2 jobs done, 0 failed; 0 tasks evaluated"), again.stdout + again.stderr)
        XCTAssertEqual(try bip(["report", "--output", folder.appendingPathComponent("swept").path], db: swept).status, 0)

        // The SQLite database's results copied into PostgreSQL: the same report and gate, byte for byte.
        let copied = try postgres().url
        try copy(try ResultStore(path: sqlite), into: try ResultStore(path: copied))
        let baseline = folder.appendingPathComponent("baseline.json").path
        for (db, name) in [(sqlite, "sqlite"), (copied, "postgres")] {
            let report = try bip(["report", "--output", folder.appendingPathComponent(name).path], db: db)
            XCTAssertEqual(report.status, 0, report.stderr)
            let written = try bip(["gate", "--baseline", baseline + "." + name, "--write-baseline"], db: db)
            XCTAssertEqual(written.status, 0, written.stderr)
        }
        let reports = try files(folder.appendingPathComponent("sqlite"))
        XCTAssertTrue(reports.keys.contains("results.csv") && reports.keys.contains("report.md"), "\(reports.keys)")
        XCTAssertEqual(try files(folder.appendingPathComponent("postgres")), reports)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: baseline + ".postgres")),
                       try Data(contentsOf: URL(fileURLWithPath: baseline + ".sqlite")))
        for options in [[], ["--json"], ["--sweep", "other"]] {
            let gates = try [sqlite, copied].map { try bip(["gate", "--baseline", baseline + ".sqlite"] + options, db: $0) }
            XCTAssertEqual(gates[1].stdout, gates[0].stdout, "\(options)")
            XCTAssertEqual(gates[1].status, gates[0].status, "\(options)")
            XCTAssertFalse(gates[0].stdout.isEmpty)
        }
        XCTAssertTrue(try bip(["gate", "--baseline", baseline + ".sqlite"], db: copied).stdout.contains("gate passed: 10 results within tolerance"))
    }

    func testEvalAndRunsWithBIP_DB() throws {
        let url = try postgres().url
        // Four processes opening the new database at once: each migrates it or finds it migrated.
        let openers = try (0..<4).map { _ in try BipExecutable.start(["runs", "--db", url], environment: environment) }
        for opener in openers {
            opener.waitUntilExit()
            XCTAssertEqual(opener.terminationStatus, 0)
        }
        environment["BIP_DB"] = url
        let eval = try BipExecutable.run(["eval", "--model", model, "--tasks", "arc_easy", "--limit", "2"], environment: environment)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("run 1 stored in \(try StoreLocation(url))"), eval.stdout)
        let runs = try BipExecutable.run(["runs"], environment: environment)
        XCTAssertEqual(runs.status, 0, runs.stderr)
        XCTAssertEqual(runs.stdout.split(separator: "\n").count, 1, runs.stdout)
        XCTAssertTrue(runs.stdout.hasPrefix("1\t") && runs.stdout.hasSuffix("\tarc_easy\n"), runs.stdout)
        // --db wins over BIP_DB.
        let missing = folder.appendingPathComponent("none.sqlite").path
        let other = try BipExecutable.run(["runs", "--db", missing], environment: environment)
        XCTAssertEqual(other.status, 1)
        XCTAssertEqual(other.stderr, "error: \(missing): no such results database\n")
    }

    func testBadURLsAndARefusedPortAreClearErrors() throws {
        for (db, message) in [
            ("postgres://me:secret@127.0.0.1:1/db", "postgres://me@127.0.0.1:1/db: cannot connect to the results database: connection refused"),
            ("postgresql://127.0.0.1/db", "postgresql://127.0.0.1/db: the URL names no user (postgres://USER@HOST:PORT/DBNAME)"),
        ] {
            for command in [["runs"], ["report"], ["gate"], ["eval", "--model", model, "--tasks", "arc_easy", "--limit", "1"], ["sweep"] + tiny] {
                let outcome = try bip(command, db: db)
                XCTAssertEqual(outcome.status, 1, "\(command)")
                XCTAssertEqual(outcome.stderr.split(separator: "\n").last.map(String.init), "error: \(message)", "\(command)")
                XCTAssertFalse(outcome.stderr.contains("secret"))
            }
        }
    }
}
