import Foundation
import Runtime

/// Where a results database is: a SQLite file (any `--db` that is not a URL), or a PostgreSQL
/// database given as `postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME` (also `postgresql://`).
public enum StoreLocation: Equatable, Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresAddress)

    /// Reads `--db`'s text: a PostgreSQL URL, or else a SQLite path.
    public init(_ text: String) throws {
        if PostgresAddress.schemes.contains(where: { text.lowercased().hasPrefix($0 + "://") }) {
            self = .postgres(try PostgresAddress(parsing: text))
        } else {
            self = .sqlite(path: text)
        }
    }

    /// The database as messages name it: the file's path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let address): return address.description
        }
    }
}

/// A PostgreSQL database to connect to, read from its URL.
public struct PostgresAddress: Equatable, Sendable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    static let schemes = ["postgres", "postgresql"]

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME`; a part missing or malformed is an
    /// error naming the URL (without its password).
    public init(parsing url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, Self.schemes.contains(scheme.lowercased()) else {
            throw FileError(Self.redacted(url), "not a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME)")
        }
        let shown = Self.redacted(url)
        guard let user = parts.user, !user.isEmpty else { throw FileError(shown, "the URL names no user (postgres://USER@HOST:PORT/DBNAME)") }
        guard let host = parts.host, !host.isEmpty else { throw FileError(shown, "the URL names no host (postgres://USER@HOST:PORT/DBNAME)") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw FileError(shown, "the URL names no database (postgres://USER@HOST:PORT/DBNAME)")
        }
        guard parts.query == nil, parts.fragment == nil else { throw FileError(shown, "the URL takes no ?options or #fragment") }
        // URLComponents gives the parts percent-decoded.
        self.user = user
        password = parts.password
        self.host = host
        port = parts.port ?? 5432
        self.database = database
    }

    /// The URL without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// `url` with any password replaced by `***`, for a message about a URL that did not parse.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let start = url.range(of: "://")?.upperBound, start < at,
              let colon = url[start..<at].firstIndex(of: ":") else { return url }
        return url.replacingCharacters(in: url.index(after: colon)..<at, with: "***")
    }
}
