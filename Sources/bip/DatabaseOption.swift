import ArgumentParser
import Foundation

/// The `--db` option shared by the commands that store or read results: a SQLite file or a
/// PostgreSQL URL; without it, `$BIP_DB`, else `bip.sqlite`.
struct DatabaseOption: ParsableArguments {
    @Option(name: .customLong("db"),
            help: "The results database: a SQLite file, or a PostgreSQL URL postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (default $BIP_DB, else bip.sqlite).")
    var given: String?

    /// The database to open (`ResultStore(path:)`).
    var path: String {
        if let given { return given }
        if let environment = ProcessInfo.processInfo.environment["BIP_DB"], !environment.isEmpty { return environment }
        return "bip.sqlite"
    }
}
