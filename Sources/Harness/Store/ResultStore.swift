import Foundation
import Runtime

/// The database of results: a SQLite file (the default; WAL mode and a busy timeout, so several
/// processes can write to one file) or a PostgreSQL database (`postgres://…`, which many machines
/// can share). One schema, made by the same named migrations (`StoreMigration`), and one set of
/// queries for both engines. Every write is one short transaction, so an interruption loses at
/// most the task being written.
public final class ResultStore: Sendable {
    /// The database as messages name it: the SQLite file's path, or the PostgreSQL URL without
    /// its password.
    public let path: String
    let engine: any StoreEngine

    /// Opens the results database `path`, a SQLite file (made if missing) or a PostgreSQL URL
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME`, a database that exists), and applies the
    /// migrations it lacks.
    public init(path: String) throws {
        let location = try StoreLocation(path)
        self.path = location.description
        switch location {
        case .sqlite(let file): engine = try SQLiteEngine(path: file)
        case .postgres(let address): engine = try PostgresEngine(address)
        }
    }

    /// Opens the results database `path`, which must exist (commands that only read results
    /// never create a SQLite file).
    public static func existing(path: String) throws -> ResultStore {
        if case .sqlite(let file) = try StoreLocation(path), !FileManager.default.fileExists(atPath: file) {
            throw FileError(file, "no such results database")
        }
        return try ResultStore(path: path)
    }

    /// Inserts a run and returns it with its id.
    public func insert(_ run: EvalRun) throws -> EvalRun {
        try write { statements in
            var run = run
            run.id = try statements.insert(run)
            return run
        }
    }

    /// Stores one task's metrics, samples and perplexity windows in one transaction: all of the
    /// task or none of it.
    public func record(_ metrics: [TaskMetric], samples: [DocumentSample], windows: [PerplexityWindow] = []) throws {
        try write { statements in
            for metric in metrics { try statements.upsert(metric) }
            for sample in samples { try statements.upsert(sample) }
            for window in windows { try statements.upsert(window) }
        }
    }

    public func finish(runID: Int64, at time: String) throws {
        try write { try $0.execute("UPDATE eval_run SET finished_at = $1 WHERE id = $2", [.text(time), .integer(runID)]) }
    }

    public func samples(runID: Int64, task: String) throws -> [DocumentSample] {
        try read { try $0.fetch(DocumentSample.self, "WHERE run_id = $1 AND task = $2 ORDER BY doc_index", [.integer(runID), .text(task)]) }
    }

    /// The stored windows of perplexity corpus `task` in run `runID`, in window order.
    public func windows(runID: Int64, task: String) throws -> [PerplexityWindow] {
        try read { try $0.fetch(PerplexityWindow.self, "WHERE run_id = $1 AND task = $2 ORDER BY window_index", [.integer(runID), .text(task)]) }
    }

    public func runs() throws -> [EvalRun] { try read { try $0.fetch(EvalRun.self, "ORDER BY id") } }

    public func metrics(runID: Int64) throws -> [TaskMetric] {
        try read { try $0.fetch(TaskMetric.self, "WHERE run_id = $1 ORDER BY task, metric", [.integer(runID)]) }
    }

    /// Held for the length of every write, so an interruption (Ctrl-C) can wait for the current
    /// write to finish before the process exits.
    public static let writeLock = NSLock()

    @discardableResult
    func write<T>(_ body: (any StoreStatements) throws -> T) throws -> T {
        Self.writeLock.lock()
        defer { Self.writeLock.unlock() }
        return try engine.write(body)
    }

    func read<T>(_ body: (any StoreStatements) throws -> T) throws -> T { try engine.read(body) }
}

extension StoreStatements {
    /// Inserts `record` (a nil id made by the database) and returns its id.
    func insert<R: StoredRecord>(_ record: R) throws -> Int64 {
        let columns = try RowEncoder.columns(of: record).filter { $0.name != "id" || $0.value != .null }
        let rows = try query("INSERT INTO \(R.databaseTableName) (\(columns.map(\.name).joined(separator: ", "))) "
                             + "VALUES (\(Self.parameters(columns.count))) RETURNING id", columns.map(\.value))
        guard case .integer(let id)? = rows.first?["id"] else {
            throw DecodingError.valueNotFound(Int64.self, .init(codingPath: [], debugDescription: "no id from INSERT INTO \(R.databaseTableName)"))
        }
        return id
    }

    /// Inserts `record`, or writes it over the row with its key.
    func upsert<R: StoredRecord>(_ record: R) throws {
        let columns = try RowEncoder.columns(of: record)
        let set = columns.filter { !R.key.contains($0.name) }.map { "\($0.name) = excluded.\($0.name)" }
        try execute("INSERT INTO \(R.databaseTableName) (\(columns.map(\.name).joined(separator: ", "))) "
                    + "VALUES (\(Self.parameters(columns.count))) "
                    + "ON CONFLICT (\(R.key.joined(separator: ", "))) DO UPDATE SET \(set.joined(separator: ", "))", columns.map(\.value))
    }

    /// Writes every column of the row with `record`'s key; returns how many rows that was.
    func update<R: StoredRecord>(_ record: R) throws -> Int {
        let columns = try RowEncoder.columns(of: record)
        let set = columns.filter { !R.key.contains($0.name) }, key = R.key.compactMap { name in columns.first { $0.name == name } }
        let assignments = set.enumerated().map { "\($0.element.name) = $\($0.offset + 1)" }
        let conditions = key.enumerated().map { "\($0.element.name) = $\(set.count + $0.offset + 1)" }
        return try execute("UPDATE \(R.databaseTableName) SET \(assignments.joined(separator: ", ")) WHERE \(conditions.joined(separator: " AND "))",
                           (set + key).map(\.value))
    }

    /// The records of `R`'s table that `clauses` (`WHERE …`, `ORDER BY …`) select.
    func fetch<R: StoredRecord>(_ type: R.Type, _ clauses: String = "", _ arguments: [StoreValue] = []) throws -> [R] {
        try query("SELECT * FROM \(R.databaseTableName) \(clauses)", arguments).map { try RowDecoder.record(R.self, from: $0) }
    }

    private static func parameters(_ count: Int) -> String { (1...count).map { "$\($0)" }.joined(separator: ", ") }
}
