import GRDB

/// One named schema change, written once for each engine: GRDB's migration for SQLite, and the
/// PostgreSQL statements that give the same schema (same tables, columns, keys, foreign keys and
/// ON DELETE actions). Both engines record the names they applied: SQLite in GRDB's
/// `grdb_migrations`, PostgreSQL in `schema_migration`.
///
/// A schema change is one more migration at the end of `all`, with both dialects; a migration
/// that is there never changes, as databases that applied it have its schema.
struct StoreMigration: Sendable {
    let name: String
    let sqlite: @Sendable (Database) throws -> Void
    /// Statements run in order, in the transaction that records the name.
    let postgres: [String]

    /// PostgreSQL's text columns compare and sort by their bytes, as SQLite's do.
    private static let text = #"TEXT COLLATE "C""#

    static let all: [StoreMigration] = [
        StoreMigration(name: "v1: evaluation runs, task metrics, document samples", sqlite: { db in
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
        }, postgres: [
            """
            CREATE TABLE eval_run (id BIGSERIAL PRIMARY KEY, model_path \(text) NOT NULL, model_sha256 \(text) NOT NULL,
                parameters BIGINT NOT NULL, protocol \(text) NOT NULL, options \(text) NOT NULL, bip_version \(text) NOT NULL,
                bip_commit \(text), host \(text) NOT NULL, started_at \(text) NOT NULL, finished_at \(text))
            """,
            """
            CREATE TABLE task_metric (run_id BIGINT NOT NULL REFERENCES eval_run (id) ON DELETE CASCADE, task \(text) NOT NULL,
                metric \(text) NOT NULL, value DOUBLE PRECISION NOT NULL, stderr DOUBLE PRECISION, n BIGINT NOT NULL, detail \(text),
                PRIMARY KEY (run_id, task, metric))
            """,
            """
            CREATE TABLE document_sample (run_id BIGINT NOT NULL REFERENCES eval_run (id) ON DELETE CASCADE, task \(text) NOT NULL,
                doc_index BIGINT NOT NULL, loglikelihoods \(text) NOT NULL, continuation_tokens \(text) NOT NULL, gold BIGINT NOT NULL,
                prediction_acc BIGINT NOT NULL, prediction_acc_norm BIGINT, PRIMARY KEY (run_id, task, doc_index))
            """,
        ]),
        StoreMigration(name: "v2: sweeps and their jobs", sqlite: { db in
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
        }, postgres: [
            "CREATE TABLE sweep (id BIGSERIAL PRIMARY KEY, name \(text) NOT NULL UNIQUE, config \(text) NOT NULL, created_at \(text) NOT NULL)",
            """
            CREATE TABLE sweep_job (id BIGSERIAL PRIMARY KEY, sweep_id BIGINT NOT NULL REFERENCES sweep (id) ON DELETE CASCADE,
                position BIGINT NOT NULL, method \(text) NOT NULL, sparsity DOUBLE PRECISION NOT NULL, seed BIGINT NOT NULL,
                status \(text) NOT NULL, error \(text), attempts BIGINT NOT NULL, model_path \(text),
                eval_run_id BIGINT REFERENCES eval_run (id) ON DELETE SET NULL, prune_detail \(text), parameters BIGINT,
                macs_per_token DOUBLE PRECISION, peak_memory_bytes BIGINT, tokens_per_second DOUBLE PRECISION,
                dense_tokens_per_second DOUBLE PRECISION, CONSTRAINT sweep_job_v2_key UNIQUE (sweep_id, method, sparsity, seed))
            """,
        ]),
        StoreMigration(name: "v3: a sweep job's tune as a column", sqlite: { db in
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
        }, postgres: [
            "ALTER TABLE sweep_job ADD COLUMN tuned BOOLEAN NOT NULL DEFAULT FALSE",
            "UPDATE sweep_job SET tuned = TRUE, method = left(method, -8) WHERE right(method, 8) = ' w/ tune'",
            "ALTER TABLE sweep_job DROP CONSTRAINT sweep_job_v2_key",
            "ALTER TABLE sweep_job ADD CONSTRAINT sweep_job_v3_key UNIQUE (sweep_id, method, sparsity, seed, tuned)",
        ]),
        StoreMigration(name: "v4: pruning settings of sweep jobs", sqlite: { db in
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
        }, postgres: [
            "ALTER TABLE sweep_job ADD COLUMN allocation \(text), ADD COLUMN statistics \(text), ADD COLUMN bias_compensation BOOLEAN, ADD COLUMN layers \(text)",
            "ALTER TABLE sweep_job DROP CONSTRAINT sweep_job_v3_key",
            """
            CREATE UNIQUE INDEX sweep_job_key ON sweep_job (sweep_id, method, sparsity, seed, tuned,
                COALESCE(allocation, ''), COALESCE(statistics, ''), COALESCE(bias_compensation::text, ''), COALESCE(layers, ''))
            """,
        ]),
        StoreMigration(name: "v5: perplexity windows", sqlite: { db in
            try db.create(table: PerplexityWindow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references(EvalRun.databaseTableName, onDelete: .cascade)
                t.column("task", .text).notNull()
                t.column("window_index", .integer).notNull()
                t.column("nll_sum", .double).notNull()
                t.column("tokens", .integer).notNull()
                t.primaryKey(["run_id", "task", "window_index"])
            }
        }, postgres: [
            """
            CREATE TABLE perplexity_window (run_id BIGINT NOT NULL REFERENCES eval_run (id) ON DELETE CASCADE, task \(text) NOT NULL,
                window_index BIGINT NOT NULL, nll_sum DOUBLE PRECISION NOT NULL, tokens BIGINT NOT NULL,
                PRIMARY KEY (run_id, task, window_index))
            """,
        ]),
        StoreMigration(name: "v6: removal plan of sweep jobs", sqlite: { db in
            // The hash of the units a job's model removed (`PruningProvenance.removalPlanHash`),
            // NULL for the dense model and for jobs run before it was recorded.
            try db.alter(table: SweepJob.databaseTableName) { t in t.add(column: "plan_hash", .text) }
        }, postgres: [
            "ALTER TABLE sweep_job ADD COLUMN plan_hash \(text)",
        ]),
        StoreMigration(name: "v7: imported runs", sqlite: { db in
            // Where an imported run came from (`ImportedRunSource` as sorted-key JSON), NULL for
            // the runs bip made.
            try db.alter(table: EvalRun.databaseTableName) { t in t.add(column: "source", .text) }
        }, postgres: [
            "ALTER TABLE eval_run ADD COLUMN source \(text)",
        ]),
        StoreMigration(name: "v8: units of sweep jobs", sqlite: { db in
            try db.create(table: SweepUnit.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sweep_id", .integer).notNull().references(SweepRecord.databaseTableName, onDelete: .cascade)
                t.column("job_id", .integer).notNull().references(SweepJob.databaseTableName, onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("task", .text)
                t.column("shard_index", .integer)
                t.column("item_first", .integer)
                t.column("item_count", .integer)
                t.column("status", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("error", .text)
                t.column("claim_token", .text)
                t.column("worker", .text)
                t.column("host", .text)
                t.column("pid", .integer)
                t.column("claimed_at", .text)
                t.column("lease_until", .double)
                t.column("seconds", .double)
                t.column("tokens_run", .integer)
                t.column("naive_tokens", .integer)
                t.uniqueKey(["job_id", "position"])
            }
            try db.create(index: "sweep_unit_status", on: SweepUnit.databaseTableName, columns: ["sweep_id", "status"])
            try db.execute(sql: unitsOfStoredJobs)
        }, postgres: [
            """
            CREATE TABLE sweep_unit (id BIGSERIAL PRIMARY KEY, sweep_id BIGINT NOT NULL REFERENCES sweep (id) ON DELETE CASCADE,
                job_id BIGINT NOT NULL REFERENCES sweep_job (id) ON DELETE CASCADE, position BIGINT NOT NULL, kind \(text) NOT NULL,
                task \(text), shard_index BIGINT, item_first BIGINT, item_count BIGINT, status \(text) NOT NULL, attempts BIGINT NOT NULL,
                error \(text), claim_token \(text), worker \(text), host \(text), pid BIGINT, claimed_at \(text),
                lease_until DOUBLE PRECISION, seconds DOUBLE PRECISION, tokens_run BIGINT, naive_tokens BIGINT,
                CONSTRAINT sweep_unit_key UNIQUE (job_id, position))
            """,
            "CREATE INDEX sweep_unit_status ON sweep_unit (sweep_id, status)",
            unitsOfStoredJobs,
        ]),
        StoreMigration(name: "v9: greedy continuations of document samples", sqlite: { db in
            // Whether each choice's continuation is the greedy one (a JSON array of booleans),
            // NULL for the samples stored before it was recorded.
            try db.alter(table: DocumentSample.databaseTableName) { t in t.add(column: "is_greedy", .text) }
        }, postgres: [
            "ALTER TABLE document_sample ADD COLUMN is_greedy \(text)",
        ]),
    ]

    /// Migration v8's units of the jobs stored before it: each job's model unit, done for a job
    /// that is done, failed (with its error) for one that failed, else pending; the model unit
    /// plans the rest of the job when it runs. Part of v8: never change it.
    private static let unitsOfStoredJobs = """
        INSERT INTO sweep_unit (sweep_id, job_id, position, kind, status, attempts, error)
        SELECT sweep_id, id, 0, 'model', CASE WHEN status = 'running' THEN 'pending' ELSE status END, attempts, error FROM sweep_job
        """

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
}

extension ResultStore {
    /// The migrations for SQLite, as GRDB applies them.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreMigration.all { migrator.registerMigration(migration.name, migrate: migration.sqlite) }
        return migrator
    }
}
