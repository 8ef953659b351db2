import Foundation
import GRDB
import Runtime

/// The SQLite database of results. WAL mode and a busy timeout, so several processes can write
/// to one file; every write is one short transaction, so an interruption loses at most the task
/// being written. Schema changes are named migrations.
public final class ResultStore: Sendable {
    public let path: String
    let queue: DatabasePool

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            queue = try Self.retryingWhileBusy { try DatabasePool(path: path, configuration: configuration) }
            try Self.migrate(queue)
        } catch let error as DatabaseError {
            throw FileError(path, "cannot open the results database: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Opens the results database at `path`, which must exist (commands that only read results
    /// never create one).
    public static func existing(path: String) throws -> ResultStore {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such results database") }
        return try ResultStore(path: path)
    }

    /// Runs `body` again while SQLite answers busy or locked without waiting for the busy
    /// timeout, as switching a new file to WAL does when another process is switching it too.
    /// Gives up after about 30 seconds.
    private static func retryingWhileBusy<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where isBusy(error) && Date() < deadline {
                Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.25))
            }
        }
    }

    private static func isBusy(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// Applies the migrations not yet recorded. Another process may be migrating the same new
    /// file at the same moment: a migration then fails busy, or on a table the other process has
    /// just created. Either way, once the other process's migrations are recorded, the next pass
    /// starts after them.
    private static func migrate(_ queue: DatabasePool) throws {
        let deadline = Date().addingTimeInterval(30)
        let applied = { try retryingWhileBusy { try queue.read { try migrator.appliedIdentifiers($0) } } }
        while true {
            let before = try applied()
            do {
                try migrator.migrate(queue)
                // A reader opened before a migration may hold statements prepared on the old schema.
                if try applied() != before { queue.invalidateReadOnlyConnections() }
                return
            } catch let error as DatabaseError {
                guard Date() < deadline, try isBusy(error) || applied() != before else { throw error }
                Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.25))
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: evaluation runs, task metrics, document samples") { db in
            try db.create(table: EvalRun.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("model_path", .text).notNull()
                t.column("model_sha256", .text).notNull()
                t.column("parameters", .integer).notNull()
                t.column("protocol", .text).notNull()
                t.column("options", .text).notNull()
                t.column("bip_version", .text).notNull()
                t.column("bip_commit", .text)
                t.column("host", .text).notNull()
                t.column("started_at", .text).notNull()
                t.column("finished_at", .text)
            }
            try db.create(table: TaskMetric.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references(EvalRun.databaseTableName, onDelete: .cascade)
                t.column("task", .text).notNull()
                t.column("metric", .text).notNull()
                t.column("value", .double).notNull()
                t.column("stderr", .double)
                t.column("n", .integer).notNull()
                t.column("detail", .text)
                t.primaryKey(["run_id", "task", "metric"])
            }
            try db.create(table: DocumentSample.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references(EvalRun.databaseTableName, onDelete: .cascade)
                t.column("task", .text).notNull()
                t.column("doc_index", .integer).notNull()
                t.column("loglikelihoods", .text).notNull()
                t.column("continuation_tokens", .text).notNull()
                t.column("gold", .integer).notNull()
                t.column("prediction_acc", .integer).notNull()
                t.column("prediction_acc_norm", .integer)
                t.primaryKey(["run_id", "task", "doc_index"])
            }
        }
        migrator.registerMigration("v2: sweeps and their jobs") { db in
            try db.create(table: SweepRecord.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("config", .text).notNull()
                t.column("created_at", .text).notNull()
            }
            try db.create(table: SweepJob.databaseTableName) { t in
                sweepJobColumnsOfV2(t)
                t.uniqueKey(["sweep_id", "method", "sparsity", "seed"])
            }
        }
        migrator.registerMigration("v3: a sweep job's tune as a column") { db in
            // A tuned variant was its method with the suffix " w/ tune"; now the method is the
            // pruning method and `tuned` says so. SQLite cannot change a unique key in place, so
            // the table is made again with the column in the key and the rows copied over.
            try db.create(table: "sweep_job_v3") { t in
                sweepJobColumnsOfV2(t)
                t.column("tuned", .boolean).notNull().defaults(to: false)
                t.uniqueKey(["sweep_id", "method", "sparsity", "seed", "tuned"])
            }
            let kept = "status, error, attempts, model_path, eval_run_id, prune_detail, parameters, macs_per_token, "
                + "peak_memory_bytes, tokens_per_second, dense_tokens_per_second"
            try db.execute(sql: """
                INSERT INTO sweep_job_v3 (id, sweep_id, position, method, sparsity, seed, tuned, \(kept))
                SELECT id, sweep_id, position,
                       CASE WHEN substr(method, -8) = ' w/ tune' THEN substr(method, 1, length(method) - 8) ELSE method END,
                       sparsity, seed, substr(method, -8) = ' w/ tune', \(kept)
                FROM sweep_job
                """)
            try db.drop(table: SweepJob.databaseTableName)
            try db.rename(table: "sweep_job_v3", to: SweepJob.databaseTableName)
        }
        migrator.registerMigration("v4: pruning settings of sweep jobs") { db in
            // A job's departures from its method's paper setting, NULL where it keeps the paper's.
            // The unique key takes them in; as SQLite's unique constraints treat NULLs as distinct,
            // the key is an index on the columns with NULL read as ''.
            try db.create(table: "sweep_job_v4") { t in
                sweepJobColumnsOfV2(t)
                t.column("tuned", .boolean).notNull().defaults(to: false)
                t.column("allocation", .text)
                t.column("statistics", .text)
                t.column("bias_compensation", .boolean)
                t.column("layers", .text)
            }
            let kept = "sweep_id, position, method, sparsity, seed, tuned, status, error, attempts, model_path, eval_run_id, "
                + "prune_detail, parameters, macs_per_token, peak_memory_bytes, tokens_per_second, dense_tokens_per_second"
            try db.execute(sql: "INSERT INTO sweep_job_v4 (id, \(kept)) SELECT id, \(kept) FROM sweep_job")
            try db.drop(table: SweepJob.databaseTableName)
            try db.rename(table: "sweep_job_v4", to: SweepJob.databaseTableName)
            try db.execute(sql: """
                CREATE UNIQUE INDEX sweep_job_key ON sweep_job (sweep_id, method, sparsity, seed, tuned,
                    IFNULL(allocation, ''), IFNULL(statistics, ''), IFNULL(bias_compensation, ''), IFNULL(layers, ''))
                """)
        }
        migrator.registerMigration("v5: perplexity windows") { db in
            try db.create(table: PerplexityWindow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references(EvalRun.databaseTableName, onDelete: .cascade)
                t.column("task", .text).notNull()
                t.column("window_index", .integer).notNull()
                t.column("nll_sum", .double).notNull()
                t.column("tokens", .integer).notNull()
                t.primaryKey(["run_id", "task", "window_index"])
            }
        }
        migrator.registerMigration("v6: removal plan of sweep jobs") { db in
            // The hash of the units a job's model removed (`PruningProvenance.removalPlanHash`),
            // NULL for the dense model and for jobs run before it was recorded.
            try db.alter(table: SweepJob.databaseTableName) { t in t.add(column: "plan_hash", .text) }
        }
        migrator.registerMigration("v7: imported runs") { db in
            // Where an imported run came from (`ImportedRunSource` as sorted-key JSON), NULL for
            // the runs bip made.
            try db.alter(table: EvalRun.databaseTableName) { t in t.add(column: "source", .text) }
        }
        return migrator
    }

    /// The columns of `sweep_job` as migration v2 made them, which v3 and v4 made again with their
    /// own columns and key. Part of those migrations: never change it (a later migration alters
    /// the table, or makes it again with these columns and its own).
    private static func sweepJobColumnsOfV2(_ t: TableDefinition) {
        t.autoIncrementedPrimaryKey("id")
        t.column("sweep_id", .integer).notNull().references(SweepRecord.databaseTableName, onDelete: .cascade)
        t.column("position", .integer).notNull()
        t.column("method", .text).notNull()
        t.column("sparsity", .double).notNull()
        t.column("seed", .integer).notNull()
        t.column("status", .text).notNull()
        t.column("error", .text)
        t.column("attempts", .integer).notNull()
        t.column("model_path", .text)
        t.column("eval_run_id", .integer).references(EvalRun.databaseTableName, onDelete: .setNull)
        t.column("prune_detail", .text)
        t.column("parameters", .integer)
        t.column("macs_per_token", .double)
        t.column("peak_memory_bytes", .integer)
        t.column("tokens_per_second", .double)
        t.column("dense_tokens_per_second", .double)
    }

    /// Inserts a run and returns it with its id.
    public func insert(_ run: EvalRun) throws -> EvalRun {
        try write { db in
            var run = run
            try run.insert(db)
            return run
        }
    }

    /// Stores one task's metrics, samples and perplexity windows in one transaction: all of the
    /// task or none of it.
    public func record(_ metrics: [TaskMetric], samples: [DocumentSample], windows: [PerplexityWindow] = []) throws {
        try write { db in
            for metric in metrics { try metric.upsert(db) }
            for sample in samples { try sample.upsert(db) }
            for window in windows { try window.upsert(db) }
        }
    }

    public func finish(runID: Int64, at time: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE eval_run SET finished_at = ? WHERE id = ?", arguments: [time, runID])
        }
    }

    public func samples(runID: Int64, task: String) throws -> [DocumentSample] {
        try read { try DocumentSample.filter(Column("run_id") == runID && Column("task") == task).order(Column("doc_index")).fetchAll($0) }
    }

    /// The stored windows of perplexity corpus `task` in run `runID`, in window order.
    public func windows(runID: Int64, task: String) throws -> [PerplexityWindow] {
        try read { try PerplexityWindow.filter(Column("run_id") == runID && Column("task") == task).order(Column("window_index")).fetchAll($0) }
    }

    public func runs() throws -> [EvalRun] { try read { try EvalRun.order(Column("id")).fetchAll($0) } }

    public func metrics(runID: Int64) throws -> [TaskMetric] {
        try read { try TaskMetric.filter(Column("run_id") == runID).order(Column("task"), Column("metric")).fetchAll($0) }
    }

    /// Held for the length of every write, so an interruption (Ctrl-C) can wait for the current
    /// write to finish before the process exits.
    public static let writeLock = NSLock()

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        Self.writeLock.lock()
        defer { Self.writeLock.unlock() }
        do { return try queue.write(body) } catch let error as DatabaseError {
            throw FileError(path, "write failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let error as DatabaseError {
            throw FileError(path, "read failed: \(error.message ?? "\(error.resultCode)")")
        }
    }
}
