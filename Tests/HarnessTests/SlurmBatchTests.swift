import Foundation
@testable import Harness
import TestSupport
import XCTest

/// The Slurm job array of a sweep's workers: its batch script line by line, the time limits it
/// reads, and (with BIP_TEST_SLURM=1, on the local cluster of scripts/local-cluster.sh) a real
/// array submitted with sbatch, run, and its tasks' output read back.
final class SlurmBatchTests: XCTestCase {
    func testTheBatchScriptOfEveryOption() {
        let batch = SlurmBatch(sweep: "full", db: "postgres://bip@db.cluster:5432/bip", workers: 8, executable: "/opt/bip/bin/bip",
                               logDirectory: "/shared/reports/full", partition: "cpu", time: WallTime("4h"), cpusPerTask: 4,
                               memory: "16G", sbatchArguments: ["--account=lab", "--qos=long"], home: "/shared/bip home", data: "/shared/data")
        XCTAssertEqual(batch.scriptName, "slurm-full.sh")
        XCTAssertEqual(batch.script.components(separatedBy: "\n"), [
            "#!/bin/bash",
            "#SBATCH --job-name=bip-full",
            "#SBATCH --array=0-7",
            "#SBATCH --output=/shared/reports/full/slurm-full-%A_%a.out",
            "#SBATCH --partition=cpu",
            "#SBATCH --time=04:00:00",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --mem=16G",
            "#SBATCH --account=lab",
            "#SBATCH --qos=long",
            "# The workers of bip sweep full: each task of the array runs units of the sweep until none is left.",
            "set -eu",
            "export OPENBLAS_NUM_THREADS=4",
            "export OMP_NUM_THREADS=4",
            "export BIP_HOME='/shared/bip home'",
            "export BIP_DATA=/shared/data",
            "exec /opt/bip/bin/bip worker --db postgres://bip@db.cluster:5432/bip --sweep full --max-time 3h50m",
            "",
        ])
    }

    func testTheBatchScriptWithOnlyWhatIsNeeded() {
        let batch = SlurmBatch(sweep: "it's", db: "/home/me/bip.sqlite", workers: 1, executable: "/usr/local/bin/bip", logDirectory: "/home/me")
        XCTAssertEqual(batch.script, """
            #!/bin/bash
            #SBATCH --job-name=bip-it's
            #SBATCH --array=0-0
            #SBATCH --output=/home/me/slurm-it's-%A_%a.out
            # The workers of bip sweep it's: each task of the array runs units of the sweep until none is left.
            set -eu
            export OPENBLAS_NUM_THREADS=1
            export OMP_NUM_THREADS=1
            exec /usr/local/bin/bip worker --db /home/me/bip.sqlite --sweep 'it'\\''s'

            """)
    }

    func testTimeLimitsInBipsAndSlurmsForms() {
        let seconds: [String: Int] = [
            "3h50m": 13800, "4h": 14400, "1d2h": 93600, "90s": 90, "2m30s": 150, "1d": 86400, "1h0m5s": 3605,
            "45": 2700, "10:30": 630, "03:50:00": 13800, "100:00:00": 360_000,
            "2-00:00:00": 172_800, "1-12": 129_600, "1-12:30": 131_400, "0-00:00:30": 30,
        ]
        for (text, expected) in seconds { XCTAssertEqual(WallTime(text)?.seconds, expected, text) }
        for bad in ["", "0", "00:00:00", "h", "3x", "4h3h", "50m4h", "1:2:3:4", "1-2-3", "-5", "1-", ":30", "4 h", "infinite", "1.5h"] {
            XCTAssertNil(WallTime(bad), bad)
        }
        XCTAssertEqual(WallTime(seconds: 13800).description, "3h50m")
        XCTAssertEqual(WallTime(seconds: 93_605).description, "1d2h5s")
        XCTAssertEqual(WallTime(seconds: 13800).slurm, "03:50:00")
        XCTAssertEqual(WallTime(seconds: 183_845).slurm, "2-03:04:05")
        for text in ["3h50m", "2-03:04:05", "90s", "45"] {
            let time = WallTime(text)!
            XCTAssertEqual(WallTime(time.slurm), time, text)
            XCTAssertEqual(WallTime(time.description), time, text)
        }
        // The worker stops taking units 10 minutes before the limit, or a tenth of it for short limits.
        XCTAssertEqual(WallTime("4h")!.workerBudget.description, "3h50m")
        XCTAssertEqual(WallTime("2-00:00:00")!.workerBudget.description, "1d23h50m")
        XCTAssertEqual(WallTime("30")!.workerBudget.description, "27m")
        XCTAssertEqual(WallTime("60s")!.workerBudget.description, "54s")
    }

    func testShellQuoting() {
        XCTAssertEqual(SlurmBatch.quoted("/a/b-c_d.e"), "/a/b-c_d.e")
        XCTAssertEqual(SlurmBatch.quoted("postgres://u@h:1/d?sslmode=disable"), "'postgres://u@h:1/d?sslmode=disable'")
        XCTAssertEqual(SlurmBatch.quoted("a b"), "'a b'")
        XCTAssertEqual(SlurmBatch.quoted("$HOME"), "'$HOME'")
        XCTAssertEqual(SlurmBatch.quoted(""), "''")
    }

    /// A job array of three tasks on the real (local) Slurm: each runs the script's command line,
    /// a stand-in for `bip worker` that prints what it was given, with the environment set.
    func testAJobArrayRunsOnSlurm() throws {
        guard try LocalCluster.slurmAvailable() else { return }
        let folder = try temporaryFolder("slurm")
        let worker = folder.appendingPathComponent("worker")
        try Data("#!/bin/sh\necho \"task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID: $* threads $OPENBLAS_NUM_THREADS home $BIP_HOME\"\n".utf8)
            .write(to: worker)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: worker.path)
        let batch = SlurmBatch(sweep: "array-test", db: folder.appendingPathComponent("bip.sqlite").path, workers: 3,
                               executable: worker.path, logDirectory: folder.path, time: WallTime("5m"), cpusPerTask: 1,
                               memory: "100M", home: folder.path)
        let script = folder.appendingPathComponent(batch.scriptName)
        try Data(batch.script.utf8).write(to: script)
        let job = try SlurmBatch.submit(script)
        XCTAssertFalse(job.isEmpty)
        try LocalCluster.waitUntilGone(job)
        for task in 0..<3 {
            let log = folder.appendingPathComponent("slurm-array-test-\(job)_\(task).out")
            let output = try String(contentsOf: log, encoding: .utf8)
            XCTAssertEqual(output, "task \(task) of \(job): worker --db \(folder.path)/bip.sqlite --sweep array-test --max-time 4m30s threads 1 home \(folder.path)\n")
        }
    }

    func testSbatchRefusingAScriptIsAClearError() throws {
        guard try LocalCluster.slurmAvailable() else { return }
        let folder = try temporaryFolder("slurm")
        let batch = SlurmBatch(sweep: "refused", db: "x", workers: 2, executable: "/bin/true", logDirectory: folder.path,
                               partition: "no-such-partition")
        let script = folder.appendingPathComponent(batch.scriptName)
        try Data(batch.script.utf8).write(to: script)
        XCTAssertThrowsError(try SlurmBatch.submit(script)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("sbatch \(script.path) failed") && text.contains("invalid partition"), text)
        }
    }
}
