import Foundation
import Harness
import TestSupport
import XCTest

/// `bip worker`s sharing a sweep planned in PostgreSQL (`BIP_TEST_POSTGRES_URL`; Slurm with
/// `BIP_TEST_SLURM=1`), on the tiny model: eight workers racing for about 200 one-item units
/// store each once; a Slurm array of three workers, one killed with SIGKILL in a unit and one
/// cancelled with scancel, stores what one process stores in SQLite, bit for bit; so do two
/// workers whose server is restarted under them. Sharded and unsharded runs give the same numbers.
final class SweepWorkerCommandTests: XCTestCase {
    var folder: URL!
    var environment: [String: String] = [:]
    var model = ""

    override func setUpWithError() throws {
        folder = try temporaryFolder("workers")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        environment = ["BIP_HOME": home.path, "BIP_DATA": try TestModel.dataDirectory().path]
        model = try TinyModel.path()
    }

    func sweep(methods: String, limit: Int, benchSeconds: Double = 0, shardSize: Int? = nil) -> [String] {
        ["sweep", "--model", model, "--methods", methods, "--sparsities", "0.2", "--tasks", "wikitext2,arc_easy,piqa", "--limit", String(limit),
         "--bench-seconds", "\(benchSeconds)", "--name", "shared"] + (shardSize.map { ["--shard-size", String($0)] } ?? [])
    }

    /// The numbers of the sweep run by one `bip sweep` process into a new SQLite file, unsharded.
    func singleProcessNumbers(_ arguments: [String]) throws -> [String] {
        let db = folder.appendingPathComponent("reference-\(UUID().uuidString).sqlite").path
        var unsharded = arguments
        if let i = unsharded.firstIndex(of: "--shard-size") { unsharded.removeSubrange(i...(i + 1)) }
        let outcome = try BipExecutable.run(unsharded + ["--db", db], environment: environment)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try storedNumbers(db)
    }

    /// Plans the sweep into `db` without running it (`--slurm --dry-run` prints the batch script).
    func plan(_ arguments: [String], db: String) throws {
        let planned = try BipExecutable.run(arguments + ["--db", db, "--slurm", "--workers", "1", "--dry-run",
                                                         "--report", folder.path], environment: environment)
        XCTAssertEqual(planned.status, 0, planned.stderr)
    }

    func units(_ db: String) throws -> [SweepUnit] {
        let store = try ResultStore(path: db)
        return try store.units(sweepID: XCTUnwrap(try store.sweep(named: "shared")?.id))
    }

    /// Waits (up to two minutes) for a unit of `kind` other than `other` to be running for a
    /// worker other than `other`'s, and returns it.
    func running(_ kind: UnitKind, db: String, besides other: SweepUnit? = nil) throws -> SweepUnit {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let unit = try units(db).first(where: {
                $0.status == .running && $0.kind == kind && $0.id != other?.id && (other == nil || $0.worker != other?.worker)
            }) {
                return unit
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw NotSeen(description: "no \(kind) unit was seen running within two minutes")
    }

    struct NotSeen: Error, CustomStringConvertible { let description: String }

    func testEightWorkersRaceForTwoHundredUnitsAndStoreEachOnce() throws {
        let db = try postgres().url
        // Four jobs × (20 windows + 20 + 20 documents) in shards of one item, and their model units.
        let arguments = sweep(methods: "magnitude-l2,magnitude-l1,random", limit: 20, shardSize: 1)
        try plan(arguments, db: db)
        let workers = try (0..<8).map { i in
            try BipExecutable.start(["worker", "--db", db, "--sweep", "shared"], environment: environment,
                                    log: folder.appendingPathComponent("worker-\(i)"))
        }
        for worker in workers { worker.waitUntilExit() }
        XCTAssertEqual(workers.map(\.terminationStatus), Array(repeating: 0, count: 8))
        let stored = try units(db)
        XCTAssertEqual(stored.count, 4 * (1 + 60))
        XCTAssertTrue(stored.allSatisfy { $0.status == .done && $0.attempts == 1 }, "each unit claimed once")
        XCTAssertGreaterThan(Set(stored.map(\.worker)).count, 1, "the workers shared the units")
        let numbers = try storedNumbers(db)
        XCTAssertEqual(numbers, try singleProcessNumbers(arguments), "the sharded numbers are the unsharded ones, bit for bit")
    }

    func testASlurmArrayWithAKilledAndACancelledWorkerStoresWhatOneProcessStores() throws {
        guard try LocalCluster.slurmAvailable() else { return }
        let db = try postgres().url
        // Each job measures its throughput for two seconds (a child `bip bench`): long enough to
        // find a worker in it.
        let arguments = sweep(methods: "magnitude-l2,random", limit: 6, benchSeconds: 2, shardSize: 2)
        let submitted = try BipExecutable.run(arguments + ["--db", db, "--slurm", "--workers", "3", "--report", folder.path],
                                              environment: environment)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let job = try XCTUnwrap(submitted.stdout.split(whereSeparator: \.isNewline).last.map(String.init))
        XCTAssertTrue(job.allSatisfy(\.isNumber), submitted.stdout)

        let killed = try running(.bench, db: db)
        kill(pid_t(try XCTUnwrap(killed.pid)), SIGKILL)
        let cancelled = try running(.bench, db: db, besides: killed)
        let task = try XCTUnwrap(cancelled.worker?.split(separator: " ").last.map(String.init))
        let scancel = Process()
        scancel.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        scancel.arguments = ["scancel", task]
        try scancel.run()
        scancel.waitUntilExit()
        XCTAssertEqual(scancel.terminationStatus, 0)
        try LocalCluster.waitUntilGone(job)

        let stored = try units(db)
        XCTAssertTrue(stored.allSatisfy { $0.status == .done }, "\(stored.map { "\($0.label) \($0.status) \($0.error ?? "")" })")
        let retaken = try XCTUnwrap(stored.first { $0.id == killed.id })
        XCTAssertEqual(retaken.attempts, 2, "the killed worker's unit was run again")
        XCTAssertNotEqual(retaken.worker, killed.worker)
        let released = try XCTUnwrap(stored.first { $0.id == cancelled.id })
        XCTAssertEqual(released.attempts, 1, "the cancelled worker handed its unit back: not an attempt")
        let log = try String(contentsOf: folder.appendingPathComponent("slurm-shared-\(task).out"),
                             encoding: .utf8)
        XCTAssertTrue(log.contains("interrupted: every finished task is stored in"), log)
        XCTAssertEqual(try storedNumbers(db), try singleProcessNumbers(arguments))
    }

    func testWorkersRideOutAServerRestart() throws {
        let db = try postgres().url
        let arguments = sweep(methods: "magnitude-l2,random", limit: 6, benchSeconds: 2, shardSize: 3)
        try plan(arguments, db: db)
        let workers = try (0..<2).map { i in
            try BipExecutable.start(["worker", "--db", db], environment: environment, log: folder.appendingPathComponent("worker-\(i)"))
        }
        _ = try running(.bench, db: db)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/local-cluster.sh")
        let restart = Process()
        restart.executableURL = script
        restart.arguments = ["restart-postgres"]
        try restart.run()
        restart.waitUntilExit()
        XCTAssertEqual(restart.terminationStatus, 0)
        for worker in workers { worker.waitUntilExit() }
        let logs = (0..<2).map { (try? String(contentsOfFile: folder.appendingPathComponent("worker-\($0)").path + ".err", encoding: .utf8)) ?? "" }
        XCTAssertEqual(workers.map(\.terminationStatus), [0, 0], logs.joined(separator: "\n"))
        XCTAssertTrue(try units(db).allSatisfy { $0.status == .done })
        XCTAssertEqual(try storedNumbers(db), try singleProcessNumbers(arguments))
    }
}
