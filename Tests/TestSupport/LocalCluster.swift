import Foundation
import XCTest

/// The Slurm cluster of the tests that need one: scripts/local-cluster.sh starts it, and
/// BIP_TEST_SLURM=1 says it is there (.ci/run does both).
public enum LocalCluster {
    /// Whether Slurm is there; without it a test fails under CI (false) and is skipped elsewhere.
    public static func slurmAvailable() throws -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["BIP_TEST_SLURM"] == "1" { return true }
        guard environment["CI"] != nil else { throw XCTSkip("set BIP_TEST_SLURM=1 with a Slurm cluster (scripts/local-cluster.sh start)") }
        XCTFail("BIP_TEST_SLURM=1 is not set: CI starts scripts/local-cluster.sh and sets it")
        return false
    }

    /// Waits (up to two minutes) until Slurm job `job` has left the queue.
    public static func waitUntilGone(_ job: String) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let squeue = Process()
            squeue.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            squeue.arguments = ["squeue", "-h", "-j", job]
            let out = Pipe()
            squeue.standardOutput = out
            squeue.standardError = FileHandle.nullDevice
            try squeue.run()
            let listed = out.fileHandleForReading.readDataToEndOfFile()
            squeue.waitUntilExit()
            // A job that has left squeue's memory makes squeue fail ("Invalid job id").
            if squeue.terminationStatus != 0 || listed.isEmpty { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTFail("Slurm job \(job) still queued after two minutes")
    }
}
