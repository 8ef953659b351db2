import Foundation
import PostgresNIO
import Runtime

/// The results database in a PostgreSQL database, through postgres-nio: one connection, used
/// synchronously (the harness is synchronous). A connection lost while working (the server
/// restarted, the network dropped) is made again and the transaction run again, for up to
/// `reconnectSeconds`; opening the store fails at once, naming the URL and the problem.
final class PostgresEngine: StoreEngine, @unchecked Sendable {
    let address: PostgresAddress
    /// How long a lost connection is tried again before the write or read fails.
    static let reconnectSeconds = 120.0
    /// How long one statement may go unanswered before its connection counts as lost.
    static let statementSeconds = 60.0
    /// The advisory lock key under which migrations run (`pg_advisory_xact_lock`): "bip" in ASCII.
    static let lockKey = 0x626970

    private let lock = NSLock()
    /// Guarded by `lock`.
    private var connection: PostgresConnection?
    private let logger: Logger = {
        var logger = Logger(label: "bip.store")
        logger.logLevel = .critical
        return logger
    }()

    init(_ address: PostgresAddress) throws {
        self.address = address
        connection = try connectOrFail()
        try migrate()
    }

    deinit { connection.map(Self.close) }

    private func connect() throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        return try Self.answer(PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                          id: 1, logger: logger))
    }

    private static func close(_ connection: PostgresConnection) { _ = try? answer(connection.close()) }

    /// Waits for `future`, at most `statementSeconds`: postgres-nio drops a query written to a
    /// connection that has just closed, and that query's future never completes.
    static func answer<T>(_ future: EventLoopFuture<T>) throws -> T {
        let answer = Answer<T>()
        future.whenComplete {
            answer.result = $0
            answer.done.signal()
        }
        guard answer.done.wait(timeout: .now() + statementSeconds) == .success, let result = answer.result else {
            throw Unanswered()
        }
        return try result.get()
    }

    /// A statement that the server did not answer in time.
    struct Unanswered: Error {}

    /// A future's result, handed from the event loop to the waiting thread (the semaphore orders
    /// the write before the read).
    private final class Answer<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
        let done = DispatchSemaphore(value: 0)
    }

    private func connectOrFail() throws -> PostgresConnection {
        do { return try connect() } catch {
            throw FileError(address.description, "cannot connect to the results database: \(Self.describe(error))")
        }
    }

    /// Applies the migrations not yet recorded in `schema_migration`, under an advisory lock, so
    /// that workers starting together migrate one after the other: the first applies them, the
    /// others find them recorded.
    private func migrate() throws {
        try transaction(failure: "cannot migrate the results database") { statements in
            try statements.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))", [])
            try statements.execute("CREATE TABLE IF NOT EXISTS schema_migration (identifier TEXT PRIMARY KEY)", [])
            let applied = Set(try statements.query("SELECT identifier FROM schema_migration", []).map { $0["identifier"] })
            for migration in StoreMigration.all where !applied.contains(.text(migration.name)) {
                for statement in migration.postgres { try statements.execute(statement, []) }
                try statements.execute("INSERT INTO schema_migration (identifier) VALUES ($1)", [.text(migration.name)])
            }
        }
    }

    func write<T>(_ body: (any StoreStatements) throws -> T) throws -> T { try transaction(failure: "write failed", body) }

    func read<T>(_ body: (any StoreStatements) throws -> T) throws -> T { try transaction(failure: "read failed", body) }

    /// Runs `body` between BEGIN and COMMIT; a lost connection or a transient failure (deadlock,
    /// serialization, the server shutting down or starting up) runs it again on a new connection.
    private func transaction<T>(failure: String, _ body: (any StoreStatements) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(Self.reconnectSeconds)
        var pause = 0.1
        while true {
            var open: Statements?
            do {
                let connection = try self.connection.flatMap { $0.isClosed ? nil : $0 } ?? connect()
                self.connection = connection
                let statements = Statements(connection: connection, logger: logger)
                try statements.execute("BEGIN", [])
                open = statements
                let result = try body(statements)
                try statements.execute("COMMIT", [])
                return result
            } catch where Self.isTransient(error) && Date() < deadline {
                self.connection.map(Self.close)
                self.connection = nil
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 5)
            } catch {
                if let open, (try? open.execute("ROLLBACK", [])) == nil {
                    self.connection.map(Self.close)
                    self.connection = nil
                }
                guard error is PSQLError || Self.isTransient(error) else { throw error }
                throw FileError(address.description, "\(failure): \(Self.describe(error))")
            }
        }
    }

    /// A lost connection, or a failure that the same transaction may not meet again.
    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown: return true
            case .server:
                // 08: connection exception; 57P01-3: shut down, crashed, starting up; serialization
                // failure; deadlock; too many connections.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P") || ["40001", "40P01", "53300"].contains(state)
            default: return false
            }
        }
        return error is ChannelError || error is IOError || error is NIOConnectionError || error is Unanswered
    }

    /// What went wrong, in words: the server's message, or the connection's problem.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return describeConnection(error) }
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "the server reported an error"
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            return message + detail + (error.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? "")
        case .authMechanismRequiresPassword:
            return "the server asks for a password: give it in the URL (postgres://USER:PASSWORD@HOST:PORT/DBNAME)"
        case .unsupportedAuthMechanism:
            return "the server asks for an authentication method this client does not support"
        case .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
            return "the connection's TLS failed"
        case .connectionError:
            return error.underlying.map(describeConnection) ?? "the connection failed"
        case .serverClosedConnection, .uncleanShutdown:
            return "the server closed the connection"
        case .clientClosedConnection:
            return "the connection was closed"
        default:
            return "\(error.code)"
        }
    }

    private static func describeConnection(_ error: any Error) -> String {
        if error is Unanswered { return "no answer from the server within \(Int(statementSeconds)) seconds" }
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve host \(error.host): \(dns)" }
            let failures = error.connectionErrors.map { describeConnection($0.error) }
            return failures.isEmpty ? "cannot connect to \(error.host):\(error.port)" : Array(Set(failures)).sorted().joined(separator: "; ")
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout(let timeout) = error {
            return "no answer within \(timeout.nanoseconds / 1_000_000_000) seconds"
        }
        return "\(error)"
    }

    /// Statements on the connection; each waits for its answer.
    private struct Statements: StoreStatements {
        let connection: PostgresConnection
        let logger: Logger

        func run(_ sql: String, _ arguments: [StoreValue]) throws -> PostgresQueryResult {
            var binds = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                switch argument {
                case .null: binds.appendNull()
                case .integer(let integer): binds.append(integer)
                case .real(let real): binds.append(real)
                case .text(let text): binds.append(text)
                case .boolean(let bool): binds.append(bool)
                }
            }
            return try PostgresEngine.answer(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        }

        @discardableResult
        func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int {
            try run(sql, arguments).metadata.rows ?? 0
        }

        func lockingClause(of alias: String, skipLocked: Bool) -> String {
            "FOR UPDATE OF \(alias)" + (skipLocked ? " SKIP LOCKED" : "")
        }

        func query(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
            try run(sql, arguments).rows.map { row in
                var values = StoreRow()
                for cell in row { values[cell.columnName] = try StoreValue(cell) }
                return values
            }
        }
    }
}

extension StoreValue {
    /// A cell of the column types the schema uses (BIGINT and the other integers, DOUBLE
    /// PRECISION, TEXT, BOOLEAN); binary DOUBLE PRECISION is the Float64's bits.
    init(_ cell: PostgresCell) throws {
        guard cell.bytes != nil else { self = .null; return }
        switch cell.dataType {
        case .int8, .int4, .int2: self = .integer(try cell.decode(Int64.self))
        case .float8, .float4: self = .real(try cell.decode(Double.self))
        case .text, .varchar, .name, .bpchar: self = .text(try cell.decode(String.self))
        case .bool: self = .boolean(try cell.decode(Bool.self))
        default:
            throw DecodingError.typeMismatch(StoreValue.self, .init(codingPath: [], debugDescription: "column \(cell.columnName) has type \(cell.dataType), not one of the store's"))
        }
    }
}
