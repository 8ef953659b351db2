import Foundation
import GRDB
import Runtime

/// The results database in one SQLite file, through GRDB. WAL mode and a busy timeout, so several
/// processes can write to one file.
final class SQLiteEngine: StoreEngine {
    let path: String
    private let pool: DatabasePool

    init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try Self.retryingWhileBusy { try DatabasePool(path: path, configuration: configuration) }
            try Self.migrate(pool)
        } catch let error as DatabaseError {
            throw FileError(path, "cannot open the results database: \(error.message ?? "\(error.resultCode)")")
        }
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
    private static func migrate(_ pool: DatabasePool) throws {
        let deadline = Date().addingTimeInterval(30)
        let migrator = ResultStore.migrator
        let applied = { try retryingWhileBusy { try pool.read { try migrator.appliedIdentifiers($0) } } }
        while true {
            let before = try applied()
            do {
                try migrator.migrate(pool)
                // A reader opened before a migration may hold statements prepared on the old schema.
                if try applied() != before { pool.invalidateReadOnlyConnections() }
                return
            } catch let error as DatabaseError {
                guard Date() < deadline, try isBusy(error) || applied() != before else { throw error }
                Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.25))
            }
        }
    }

    func write<T>(_ body: (any StoreStatements) throws -> T) throws -> T {
        do { return try pool.write { try body(Statements(db: $0)) } } catch let error as DatabaseError {
            throw FileError(path, "write failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    func read<T>(_ body: (any StoreStatements) throws -> T) throws -> T {
        do { return try pool.read { try body(Statements(db: $0)) } } catch let error as DatabaseError {
            throw FileError(path, "read failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Statements on one GRDB connection, prepared once per connection; `$N` is SQLite's `?N`.
    private struct Statements: StoreStatements {
        let db: Database

        func statement(_ sql: String, _ arguments: [StoreValue]) throws -> Statement {
            let statement = try db.cachedStatement(sql: sql.replacingOccurrences(of: "$", with: "?"))
            try statement.setArguments(StatementArguments(arguments.map(\.databaseValue)))
            return statement
        }

        @discardableResult
        func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int {
            try statement(sql, arguments).execute()
            return db.changesCount
        }

        func lockingClause(of alias: String, skipLocked: Bool) -> String { "" }

        func query(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
            try Row.fetchAll(statement(sql, arguments)).map { row in
                var values = StoreRow()
                for (column, value) in row { values[column] = try StoreValue(value) }
                return values
            }
        }
    }
}

extension StoreValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let integer): return integer.databaseValue
        case .real(let real): return real.databaseValue
        case .text(let text): return text.databaseValue
        case .boolean(let bool): return bool.databaseValue
        }
    }

    init(_ value: DatabaseValue) throws {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob: throw DatabaseError(resultCode: .SQLITE_MISMATCH, message: "a results column holds a blob")
        }
    }
}
