import BIP
import Foundation
@testable import Harness
import Runtime
import Synchronization
import TestSupport
import XCTest

/// The PostgreSQL store beside SQLite, on a real server (`BIP_TEST_POSTGRES_URL`), each test in a
/// database of its own: the same migrations and schema, once however many open it at once; every
/// store operation giving the same records back on both engines (Float64 bits, Int64 extremes,
/// NULLs); a lost connection made again; the sweep lock; clear errors for a bad URL, a refused
/// port and a missing database.
final class PostgresStoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("pgstore")
    }

    func testMigrationsApplyOnceAndMakeSQLitesSchema() throws {
        let database = try postgres()
        let store = try ResultStore(path: database.url)
        _ = try ResultStore(path: database.url)
        let applied = try store.read { try $0.query("SELECT identifier FROM schema_migration ORDER BY identifier", []) }
        XCTAssertEqual(applied.map { $0["identifier"] }, StoreMigration.all.map { .text($0.name) }, "each once, opened twice")
        XCTAssertEqual(StoreMigration.all.map(\.name), ResultStore.migrator.migrations, "the same names as SQLite's")

        let sqlite = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let expected = try sqliteColumns(sqlite)
        XCTAssertEqual(expected.count, 81)
        XCTAssertEqual(try postgresColumns(store), expected)
    }

    /// `table.column TYPE NULL|NOT NULL`, sorted, of SQLite's tables.
    func sqliteColumns(_ store: ResultStore) throws -> [String] {
        try store.read { statements in
            let tables = try statements.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'", [])
            return try tables.flatMap { table -> [String] in
                guard case .text(let name)? = table["name"] else { return [] }
                return try statements.query("PRAGMA table_info(\(name))", []).map { column in
                    let notNull = column["notnull"] == .integer(1) || column["pk"] != .integer(0)
                    guard case .text(let columnName)? = column["name"], case .text(let type)? = column["type"] else { return "?" }
                    return "\(name).\(columnName) \(type) \(notNull ? "NOT NULL" : "NULL")"
                }
            }.sorted()
        }
    }

    /// The same, of PostgreSQL's, its types named as SQLite's.
    func postgresColumns(_ store: ResultStore) throws -> [String] {
        let types = ["bigint": "INTEGER", "double precision": "DOUBLE", "text": "TEXT", "boolean": "BOOLEAN"]
        return try store.read {
            try $0.query("""
                SELECT table_name::text AS t, column_name::text AS c, data_type::text AS type, is_nullable::text AS nullable
                FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migration'
                """, [])
        }.map { row in
            guard case .text(let table)? = row["t"], case .text(let column)? = row["c"], case .text(let type)? = row["type"] else { return "?" }
            return "\(table).\(column) \(types[type] ?? type) \(row["nullable"] == .text("YES") ? "NULL" : "NOT NULL")"
        }.sorted()
    }

    func testEightOpenersOfANewDatabaseMigrateItOnce() throws {
        let database = try postgres()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do { _ = try ResultStore(path: database.url) } catch { failures.withLock { $0.append("\(error)") } }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let store = try ResultStore(path: database.url)
        XCTAssertEqual(try store.read { try $0.query("SELECT count(*) AS n FROM schema_migration", []) }.first?["n"],
                       .integer(Int64(StoreMigration.all.count)))
        XCTAssertEqual(try store.runs(), [])
    }

    /// Values whose bits must come back: the smallest subnormal, values with no short decimal
    /// form, the largest finite magnitude, infinity. (Not -0.0: SQLite gives it back as 0.)
    let doubles: [Double] = [.leastNonzeroMagnitude, .pi, 1.0 / 3, 0.1 + 0.2, -.greatestFiniteMagnitude, .infinity, 2.0 / 3]

    /// What every store operation gives back on one engine.
    struct Snapshot: Equatable {
        var runs: [EvalRun] = []
        var run: EvalRun?
        var metrics: [TaskMetric] = []
        var samples: [DocumentSample] = []
        var windows: [PerplexityWindow] = []
        var finishedTasks: Set<String> = []
        var sweeps: [SweepRecord] = []
        var named: SweepRecord?
        var jobs: [SweepJob] = []
        var failed: SweepJob?
        /// Each unit's position, kind, status, attempts, error and worker (its claim's token and time differ).
        var units: [String] = []
        var reset = 0
        var newest: [GateEntry] = []
    }

    func exercise(_ store: ResultStore) throws -> Snapshot {
        let run = try store.insert(EvalRun(
            modelPath: "/m.gguf", modelSHA256: "abc", parameters: Int(Int64.max), evalProtocol: "llm-pruner",
            options: #"{"limit":3,"method":"bip","seed":0,"source_sha256":"src","sparsity":0.2,"sweep":"s"}"#,
            bipVersion: "0.1.0", bipCommit: nil, host: "h", startedAt: "2026-01-01T00:00:00Z"))
        let id = try XCTUnwrap(run.id)
        let metrics = doubles.enumerated().map { i, value in
            TaskMetric(runID: id, task: "piqa", metric: "m\(i)", value: value, stderr: i.isMultiple(of: 2) ? nil : -value, n: i,
                       detail: i == 0 ? nil : #"{"seconds":1.5,"ünïcode":"✓ 'quoted' $1"}"#)
        } + [TaskMetric(runID: id, task: "piqa", metric: "acc", value: 2.0 / 3, stderr: 0.3, n: 3, detail: nil)]
        let samples = [0, 1, 1].enumerated().map { i, prediction in
            DocumentSample(runID: id, task: "piqa", docIndex: i, loglikelihoods: "[-1.5,-2.25]", continuationTokens: "[3,4]", gold: 1,
                           predictionAcc: prediction, predictionAccNorm: i == 1 ? nil : Int(Int64.min))
        }
        let windows = doubles.dropLast(2).enumerated().map { i, value in
            PerplexityWindow(runID: id, task: "wikitext2", windowIndex: i, nllSum: value, tokens: i + 1)
        }
        // Stored twice, the second time with another value: replaced, not doubled.
        var first = metrics
        first[1].value = 42
        try store.record(first, samples: samples, windows: windows)
        try store.record(metrics, samples: samples, windows: windows)
        try store.finish(runID: id, at: "2026-01-01T00:01:00Z")

        let config = SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["piqa"])
        let overrides = PruningOverrides(allocation: .global, statistics: .sequential, biasCompensation: false, layers: .range(2..<5))
        let specs = config.jobs + [SweepJobSpec(method: "bip", sparsity: 0.2, seed: .max, pruning: overrides)]
        let sweep = try store.plan(name: "s", config: config.json, jobs: specs, at: "t")
        XCTAssertThrowsError(try store.plan(name: "s", config: config.json, jobs: [], at: "t"), "names are unique")
        var jobs = try store.jobs(sweepID: sweep.id!)
        // The key reads NULL overrides as equal: the same job twice is refused.
        XCTAssertThrowsError(try store.write { _ = try $0.insert(SweepJob(sweepID: sweep.id!, position: 9, method: "bip", sparsity: 0.2, seed: 0)) })
        // Job 0's model unit fails twice; job 1 is done; job 2's unit is claimed, then handed back.
        let worker = WorkerIdentity(name: "w", host: "h", pid: 1)
        for _ in 0..<ResultStore.maxAttempts {
            let claim = try XCTUnwrap(try store.claimUnit(sweepID: sweep.id!, worker: worker, lease: 300))
            XCTAssertEqual(claim.job.id, jobs[0].id)
            XCTAssertTrue(try store.failUnit(claim, error: "naïve ✓ 'quote' $2"))
        }
        jobs[1].status = .done
        (jobs[1].evalRunID, jobs[1].planHash, jobs[1].modelPath) = (id, "plan-hash", "/cache/m")
        jobs[1].pruneDetail = PruneDetail(sparsityReached: 1.0 / 3, attentionMLPSparsity: 0.25, parametersBefore: 100, parametersAfter: 75,
                                          layers: [.init(heads: 6, kvHeads: 3, ffn: 1015)], seconds: ["total": 4.5, "tune": 0.1])
        (jobs[1].parameters, jobs[1].macsPerToken, jobs[1].peakMemoryBytes) = (75, .pi, Int(Int64.max))
        (jobs[1].tokensPerSecond, jobs[1].denseTokensPerSecond) = (1.0 / 3, .leastNonzeroMagnitude)
        try store.update(jobs[1])
        try store.write { try $0.execute("UPDATE sweep_unit SET status = 'done' WHERE job_id = $1", [.integer(jobs[1].id!)]) }
        let interrupted = try XCTUnwrap(try store.claimUnit(sweepID: sweep.id!, worker: worker, lease: 300))
        XCTAssertEqual(interrupted.job.id, jobs[2].id)
        XCTAssertEqual(try store.jobs(sweepID: sweep.id!)[2].status, .running)
        store.releaseInterruptedClaim(token: interrupted.token)
        let failed = try store.jobs(sweepID: sweep.id!)[0]
        var missing = jobs[2]
        missing.id = 999
        XCTAssertThrowsError(try store.update(missing), "no such job")

        var snapshot = Snapshot()
        snapshot.failed = failed
        snapshot.reset = try store.resetFailed(sweepID: sweep.id!)
        snapshot.runs = try store.runs()
        snapshot.run = try store.run(id: id)
        snapshot.metrics = try store.metrics(runID: id)
        snapshot.samples = try store.samples(runID: id, task: "piqa")
        snapshot.windows = try store.windows(runID: id, task: "wikitext2")
        snapshot.finishedTasks = try store.finishedTasks(runID: id)
        snapshot.sweeps = try store.sweeps()
        snapshot.named = try store.sweep(named: "s")
        snapshot.jobs = try store.jobs(sweepID: sweep.id!)
        snapshot.units = try store.units(sweepID: sweep.id!).map {
            "\($0.jobID) \($0.position) \($0.kind) \($0.status) \($0.attempts) \($0.error ?? "-") \($0.worker ?? "-") \($0.claimToken ?? "-")"
        }
        snapshot.newest = try store.newestResults()

        XCTAssertEqual(snapshot.runs.map(\.finishedAt), ["2026-01-01T00:01:00Z"])
        XCTAssertNil(snapshot.runs[0].bipCommit)
        XCTAssertEqual(snapshot.metrics.map(\.metric), ["acc"] + doubles.indices.map { "m\($0)" }, "ordered by task, then metric")
        XCTAssertEqual(snapshot.metrics.dropFirst().map(\.value.bitPattern), doubles.map(\.bitPattern))
        XCTAssertEqual(snapshot.metrics.dropFirst().map { $0.stderr?.bitPattern }, doubles.indices.map { $0.isMultiple(of: 2) ? nil : (-doubles[$0]).bitPattern })
        XCTAssertEqual(snapshot.metrics.dropFirst().map(\.detail), metrics.dropLast().map(\.detail))
        XCTAssertEqual(snapshot.samples, samples)
        XCTAssertEqual(snapshot.windows.map(\.nllSum.bitPattern), windows.map(\.nllSum.bitPattern))
        XCTAssertEqual(snapshot.finishedTasks, ["piqa"])
        XCTAssertEqual(snapshot.failed?.status, .failed)
        XCTAssertEqual(snapshot.failed?.attempts, 2)
        XCTAssertEqual(snapshot.failed?.error, "naïve ✓ 'quote' $2")
        XCTAssertEqual(snapshot.jobs.map(\.status), [.pending, .done, .pending], "the failed job reset; the interrupted one handed back")
        XCTAssertEqual(snapshot.jobs.map(\.attempts), [0, 0, 0], "a reset starts again; an interrupted attempt is not counted")
        XCTAssertEqual(snapshot.units.count, 3)
        XCTAssertEqual(snapshot.jobs[1], jobs[1])
        XCTAssertEqual(snapshot.jobs.map(\.spec), specs)
        XCTAssertEqual(snapshot.jobs[2].seed, -1)
        XCTAssertEqual(snapshot.reset, 1)
        XCTAssertEqual(snapshot.newest.first { $0.key.metric == "acc" }?.correct, "011")
        return snapshot
    }

    func testEveryOperationGivesTheSameRecordsOnBothEngines() throws {
        let database = try postgres()
        let sqlite = try exercise(try ResultStore(path: folder.appendingPathComponent("r.sqlite").path))
        let postgres = try exercise(try ResultStore(path: database.url))
        XCTAssertEqual(postgres, sqlite)
    }

    func testAFailedTaskWriteLeavesNothingOfThatTask() throws {
        let store = try ResultStore(path: try postgres().url)
        let run = try store.insert(EvalRun(modelPath: "/m", modelSHA256: "a", parameters: 1, evalProtocol: "llm-pruner", options: "{}",
                                           bipVersion: "0", bipCommit: nil, host: "h", startedAt: "t"))
        let good = TaskMetric(runID: run.id!, task: "boolq", metric: "acc", value: 0.5, stderr: nil, n: 2, detail: nil)
        let bad = DocumentSample(runID: 999, task: "boolq", docIndex: 0, loglikelihoods: "[]", continuationTokens: "[]",
                                 gold: 0, predictionAcc: 0, predictionAccNorm: nil)
        XCTAssertThrowsError(try store.record([good], samples: [bad])) { error in
            XCTAssertTrue("\(error)".contains("write failed") && "\(error)".contains("foreign key"), "\(error)")
        }
        XCTAssertEqual(try store.metrics(runID: run.id!), [], "the task's metric rolled back with its samples")
        try store.record([good], samples: [])
        XCTAssertEqual(try store.metrics(runID: run.id!), [good], "the connection works on after the failure")
    }

    func testALostConnectionIsMadeAgain() throws {
        let database = try postgres()
        let store = try ResultStore(path: database.url)
        XCTAssertEqual(try store.runs(), [])
        try database.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database.name)'")
        let run = try store.insert(EvalRun(modelPath: "/m", modelSHA256: "a", parameters: 1, evalProtocol: "llm-pruner", options: "{}",
                                           bipVersion: "0", bipCommit: nil, host: "h", startedAt: "t"))
        XCTAssertEqual(try store.runs(), [run])
    }

    func testBadURLsAndUnreachableServersAreClearErrors() throws {
        func problem(_ db: String) -> String {
            do {
                _ = try ResultStore(path: db)
                return "opened"
            } catch let error as FileError {
                return "\(error)"
            } catch {
                return "not a FileError: \(error)"
            }
        }
        XCTAssertEqual(problem("postgres://127.0.0.1:5432/db"), "postgres://127.0.0.1:5432/db: the URL names no user (postgres://USER@HOST:PORT/DBNAME)")
        XCTAssertEqual(problem("postgresql://me@host"), "postgresql://me@host: the URL names no database (postgres://USER@HOST:PORT/DBNAME)")
        XCTAssertEqual(problem("postgres://me:secret@a host/db"), "postgres://me:***@a host/db: not a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME)")
        XCTAssertEqual(problem("postgres://me@host/db?sslmode=require"), "postgres://me@host/db?sslmode=require: the URL takes no ?options or #fragment")
        let refused = problem("postgres://me:secret@127.0.0.1:1/db")
        XCTAssertEqual(refused, "postgres://me@127.0.0.1:1/db: cannot connect to the results database: connection refused")
        XCTAssertFalse(refused.contains("secret"))
        XCTAssertTrue(problem("postgres://me@no-such-host.invalid/db").hasPrefix("postgres://me@no-such-host.invalid:5432/db: cannot connect to the results database: "))
        XCTAssertThrowsError(try ResultStore.existing(path: "postgres://me@127.0.0.1:1/db"))

        let database = try postgres()
        var missing = try XCTUnwrap(URLComponents(string: database.url))
        missing.path = "/no_such_database"
        let answer = problem(try XCTUnwrap(missing.string))
        XCTAssertTrue(answer.contains(": cannot connect to the results database: database \"no_such_database\" does not exist"), answer)
    }
}
