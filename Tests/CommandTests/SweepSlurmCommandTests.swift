import Foundation
import Harness
import TestSupport
import XCTest

/// `bip sweep --slurm`: the sweep is planned in the store and not run here; its workers' batch
/// script is printed (--dry-run) or written beside the report and submitted to Slurm (the local
/// cluster, with BIP_TEST_SLURM=1), which runs it as a job array.
final class SweepSlurmCommandTests: XCTestCase {
    var folder: URL!
    var environment: [String: String] = [:]
    var model = ""

    override func setUpWithError() throws {
        folder = try temporaryFolder("slurm-sweep")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        environment = ["BIP_HOME": home.path, "BIP_DATA": try TestModel.dataDirectory().path]
        model = try TinyModel.path()
    }

    func sweep(_ name: String, db: String) -> [String] {
        ["sweep", "--model", model, "--methods", "magnitude-l2", "--sparsities", "0.2", "--tasks", "arc_easy", "--limit", "3",
         "--bench-seconds", "0", "--name", name, "--db", db, "--report", folder.appendingPathComponent("report").path]
    }

    func testDryRunPrintsTheBatchScriptAndOnlyPlansTheSweep() throws {
        let db = folder.appendingPathComponent("plan.sqlite").path
        let outcome = try BipExecutable.run(sweep("planned", db: db) + [
            "--slurm", "--workers", "3", "--partition", "cpu", "--time", "1-00:00:00", "--cpus-per-task", "2", "--mem", "4G",
            "--sbatch-arg", "--account=lab", "--sbatch-arg=--qos=long", "--dry-run",
        ], environment: environment)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let bip = try BipExecutable.url().resolvingSymlinksInPath().path
        let report = folder.appendingPathComponent("report").path
        XCTAssertEqual(outcome.stdout, """
            #!/bin/bash
            #SBATCH --job-name=bip-planned
            #SBATCH --array=0-2
            #SBATCH --output=\(report)/slurm-planned-%A_%a.out
            #SBATCH --partition=cpu
            #SBATCH --time=1-00:00:00
            #SBATCH --cpus-per-task=2
            #SBATCH --mem=4G
            #SBATCH --account=lab
            #SBATCH --qos=long
            # The workers of bip sweep planned: each task of the array runs units of the sweep until none is left.
            set -eu
            export OPENBLAS_NUM_THREADS=2
            export OMP_NUM_THREADS=2
            export BIP_HOME=\(environment["BIP_HOME"]!)
            export BIP_DATA=\(environment["BIP_DATA"]!)
            exec \(bip) worker --db \(db) --sweep planned --max-time 23h50m

            """)
        XCTAssertTrue(outcome.stderr.contains("note: \(db) is a SQLite file: every node must see it"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: report + "/slurm-planned.sh"), "a dry run writes nothing")
        // Planned, not run.
        let store = try ResultStore(path: db)
        let jobs = try store.jobs(sweepID: try XCTUnwrap(try store.sweep(named: "planned")?.id))
        XCTAssertEqual(jobs.map(\.status), [.pending, .pending])
        XCTAssertEqual(try store.runs().count, 0)
    }

    func testTheSlurmOptionsGoTogether() throws {
        let db = folder.appendingPathComponent("options.sqlite").path
        for (extra, message) in [
            (["--workers", "3"], "go with --slurm"),
            (["--slurm"], "--slurm needs --workers N"),
            (["--slurm", "--workers", "0"], "--slurm needs --workers N"),
            (["--slurm", "--workers", "2", "--time", "4 hours"], "--time 4 hours: not a time"),
            (["--slurm", "--workers", "2", "--cpus-per-task", "0"], "--cpus-per-task must be positive"),
        ] {
            let outcome = try BipExecutable.run(sweep("options", db: db) + extra, environment: environment)
            XCTAssertNotEqual(outcome.status, 0, "\(extra)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(extra): \(outcome.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: db), "nothing planned on a bad command line")
    }

    /// Submitted to the local Slurm: the script lies beside the report, the job id is printed, and
    /// every task of the array runs it (its output file is there).
    func testSubmitsTheWorkersAsAJobArray() throws {
        guard try LocalCluster.slurmAvailable() else { return }
        let db = folder.appendingPathComponent("submitted.sqlite").path
        let outcome = try BipExecutable.run(sweep("submitted", db: db) + ["--slurm", "--workers", "2", "--time", "10"],
                                            environment: environment)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let job = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(job.isEmpty || !job.allSatisfy(\.isNumber), outcome.stdout)
        let report = folder.appendingPathComponent("report")
        let script = try String(contentsOf: report.appendingPathComponent("slurm-submitted.sh"), encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --array=0-1\n") && script.contains(" --max-time 9m\n"), script)
        XCTAssertTrue(outcome.stderr.contains("slurm-submitted.sh submitted, 2 workers"), outcome.stderr)
        try LocalCluster.waitUntilGone(job)
        for task in 0..<2 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: report.appendingPathComponent("slurm-submitted-\(job)_\(task).out").path),
                          "task \(task) of job \(job) did not run")
        }
    }
}
