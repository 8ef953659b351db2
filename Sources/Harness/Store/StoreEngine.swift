import Foundation

/// One column's value as both engines hold it: SQLite's integer, real and text storage classes
/// and PostgreSQL's BIGINT, DOUBLE PRECISION, TEXT and BOOLEAN (SQLite keeps a boolean as 0 or 1).
enum StoreValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
}

/// One row of a query's answer: each column's value by name.
typealias StoreRow = [String: StoreValue]

/// The statements of one transaction, in the SQL both engines accept: parameters numbered `$1`,
/// `$2`, … (and no other `$`); `INSERT … ON CONFLICT (…) DO UPDATE`; `RETURNING`; no engine's own
/// functions.
protocol StoreStatements {
    /// Runs a statement; returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int
    /// Runs a query; returns its rows.
    func query(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow]
    /// The clause that ends a SELECT to lock the rows of `alias` it returns until the transaction
    /// ends, passing over rows another transaction holds when `skipLocked` (PostgreSQL's
    /// `FOR UPDATE OF alias [SKIP LOCKED]`); empty on SQLite, where a write transaction holds the
    /// whole database.
    func lockingClause(of alias: String, skipLocked: Bool) -> String
}

/// One engine under `ResultStore`: SQLite through GRDB, or PostgreSQL through postgres-nio.
/// Each runs its migrations when opened; a failure is a `FileError` naming the database.
protocol StoreEngine: Sendable {
    /// Runs `body` in one transaction: everything it wrote, or (when it throws) nothing.
    func write<T>(_ body: (any StoreStatements) throws -> T) throws -> T
    /// Runs `body`'s queries on one consistent state of the database.
    func read<T>(_ body: (any StoreStatements) throws -> T) throws -> T
}
