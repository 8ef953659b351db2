import Foundation
import PostgresNIO
import XCTest

/// A PostgreSQL database of one test's own, made under a random name on the server that
/// `BIP_TEST_POSTGRES_URL` names (`postgres://USER@HOST:PORT/DBNAME`, a database to connect to for
/// CREATE DATABASE) and dropped by `drop()`. Without the variable the test is skipped, or fails
/// when `CI` is set.
public final class TestPostgres {
    /// The new database's URL.
    public let url: String
    public let name: String
    private let server: URLComponents

    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String { "BIP_TEST_POSTGRES_URL is not set, and CI is: the PostgreSQL tests need a server" }
    }

    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let given = environment["BIP_TEST_POSTGRES_URL"], !given.isEmpty else {
            if environment["CI"] != nil { throw MissingServer() }
            throw XCTSkip("BIP_TEST_POSTGRES_URL is not set: no PostgreSQL server to test on")
        }
        server = try XCTUnwrap(URLComponents(string: given), "BIP_TEST_POSTGRES_URL \(given) is not a URL")
        name = "bip_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var database = server
        database.path = "/" + name
        url = try XCTUnwrap(database.string)
        try admin("CREATE DATABASE \(name)")
    }

    /// Drops the database, whoever is still connected to it.
    public func drop() { try? admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    /// A PostgreSQL URL on this machine where nothing listens (port 1): connecting is refused.
    public static let refusedURL = "postgres://postgres@127.0.0.1:1/bip"

    /// Runs `sql` on the server's own database, outside any transaction.
    public func admin(_ sql: String) throws {
        var logger = Logger(label: "bip.tests")
        logger.logLevel = .critical
        let configuration = PostgresConnection.Configuration(
            host: server.host ?? "127.0.0.1", port: server.port ?? 5432, username: server.user ?? "postgres",
            password: server.password, database: String(server.path.dropFirst()), tls: .disable)
        let connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(),
                                                        configuration: configuration, id: 1, logger: logger).wait()
        defer { try? connection.close().wait() }
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
    }
}

extension XCTestCase {
    /// A new empty database on the test server, dropped when the test ends.
    public func postgres() throws -> TestPostgres {
        let database = try TestPostgres()
        addTeardownBlock { database.drop() }
        return database
    }
}
