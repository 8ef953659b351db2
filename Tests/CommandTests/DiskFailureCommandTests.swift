import Foundation
import Harness
import TestSupport
import XCTest

/// `bip eval`, `bip prune --output` and `bip tune` on a full disk and on a read-only one (a small
/// tmpfs, see `ScratchDisk`): a clear error naming the file and exit status 1, nothing
/// half-written left that a later run would take for complete, and what was stored before the
/// failure still readable.
final class DiskFailureCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("disk-commands")
    }

    func eval(_ model: String, db: String) throws -> BipExecutable.Outcome {
        try BipExecutable.run(["eval", "--model", model, "--tasks", "wikitext2,arc_easy", "--limit", "2", "--db", db])
    }

    func prune(output: URL) throws -> BipExecutable.Outcome {
        try BipExecutable.run(["prune", "--model", try TinyModel.path(), "--method", "magnitude-l1", "--sparsity", "0.2",
                               "--output", output.path])
    }

    /// The finished runs of a results database with their metrics.
    func finishedRuns(_ db: String) throws -> [[String]] {
        let store = try ResultStore.existing(path: db)
        return try store.runs().filter { $0.finishedAt != nil }.map { run in
            try store.metrics(runID: run.id!).map { "\($0.task) \($0.metric) \($0.value)" }
        }
    }

    func testEvalOnAFullDiskFailsClearlyAndKeepsTheEarlierRun() throws {
        let disk = try ScratchDisk(megabytes: 4)
        defer { disk.remove() }
        let db = disk.url.appendingPathComponent("results.sqlite").path
        let first = try eval(try TinyModel.path(), db: db)
        XCTAssertEqual(first.status, 0, first.stderr)
        let stored = try finishedRuns(db)
        XCTAssertEqual(stored.count, 1)

        disk.fill()
        let second = try eval(try TinyModel.path(), db: db)
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssertTrue(second.stderr.contains("error: \(db): "), second.stderr)
        XCTAssertFalse(second.stderr.contains("Fatal error"), second.stderr)

        disk.free()
        XCTAssertEqual(try finishedRuns(db), stored, "the run stored before the disk filled is whole, and no other run is finished")
    }

    func testEvalOnAReadOnlyDiskFailsClearlyAndKeepsTheEarlierRun() throws {
        let disk = try ScratchDisk(megabytes: 4)
        defer { disk.remove() }
        let db = disk.url.appendingPathComponent("results.sqlite").path
        XCTAssertEqual(try eval(try TinyModel.path(), db: db).status, 0)
        let stored = try finishedRuns(db)

        disk.remount(writable: false)
        let second = try eval(try TinyModel.path(), db: db)
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssertTrue(second.stderr.contains("error: \(db): "), second.stderr)

        disk.remount(writable: true)
        XCTAssertEqual(try finishedRuns(db), stored)
    }

    func testEvalSamplesOnAFullDiskFailsClearlyAndLeavesNoSamplesFile() throws {
        let disk = try ScratchDisk(megabytes: 1)
        defer { disk.remove() }
        let samples = disk.url.appendingPathComponent("samples.jsonl").path
        let db = folder.appendingPathComponent("results.sqlite").path
        disk.fill()
        let outcome = try BipExecutable.run(["eval", "--model", try TinyModel.path(), "--tasks", "wikitext2,arc_easy", "--limit", "2",
                                             "--db", db, "--samples", samples])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: \(samples): cannot write: No space left on device"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: samples))
        XCTAssertEqual(disk.partialFiles(), [])

        // The tasks stored before the failure are whole; the run is left unfinished, as `bip runs` shows.
        let store = try ResultStore.existing(path: db)
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 1)
        XCTAssertNil(runs[0].finishedAt)
        XCTAssertEqual(Set(try store.metrics(runID: runs[0].id!).map(\.task)), ["wikitext2", "arc_easy"])
        XCTAssertEqual(try store.samples(runID: runs[0].id!, task: "arc_easy").count, 2)
        let listed = try BipExecutable.run(["runs", "--db", db])
        XCTAssertTrue(listed.stdout.contains("\tunfinished\t"), listed.stdout)
    }

    func testPruneOutputOnAFullDiskLeavesNoModelThatLoads() throws {
        let disk = try ScratchDisk(megabytes: 8)
        defer { disk.remove() }
        let earlier = disk.url.appendingPathComponent("earlier"), failed = disk.url.appendingPathComponent("failed")
        XCTAssertEqual(try prune(output: earlier).status, 0)

        disk.fill()
        let outcome = try prune(output: failed)
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: \(failed.path)/"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("No space left on device"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: failed.appendingPathComponent("config.json").path))
        XCTAssertEqual(disk.partialFiles(), [])

        // The model written before still evaluates; the failed one is refused, naming what is missing.
        let db = folder.appendingPathComponent("r.sqlite").path
        let good = try eval(earlier.path, db: db)
        XCTAssertEqual(good.status, 0, good.stderr)
        let bad = try eval(failed.path, db: db)
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("config.json: missing"), bad.stderr)

        // Writing again over the failed one once there is room gives a whole model.
        disk.free()
        XCTAssertEqual(try prune(output: failed).status, 0)
        XCTAssertEqual(try eval(failed.path, db: db).status, 0)
    }

    func testPruneOutputOnAReadOnlyDiskFailsClearly() throws {
        let disk = try ScratchDisk(megabytes: 8)
        defer { disk.remove() }
        disk.remount(writable: false)
        let output = disk.url.appendingPathComponent("model")
        let outcome = try prune(output: output)
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: \(output.path)"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("Read-only file system"), outcome.stderr)
    }

    func testTuneOnAFullDiskFailsClearlyAtItsFirstCheckpoint() throws {
        let disk = try ScratchDisk(megabytes: 8)
        defer { disk.remove() }
        let output = disk.url.appendingPathComponent("tuned")
        try FileManager.default.createDirectory(at: output.appendingPathComponent("checkpoint"), withIntermediateDirectories: true)
        disk.fill()
        let outcome = try BipExecutable.run(["tune", "--model", try TinyModel.path(), "--data", "c4", "--output", output.path,
                                             "--max-steps", "2", "--batch", "2", "--micro-batch", "1", "--cutoff", "24",
                                             "--held-out", "4", "--save-steps", "1", "--warmup", "1"])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: \(output.path)/checkpoint/"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("No space left on device"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("checkpoint/checkpoint.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("config.json").path))
        XCTAssertEqual(disk.partialFiles(), [])
    }
}
