import Foundation

/// The folder that holds the evaluation and calibration data sets, laid out as
/// `shared/data`: `wikitext2/…`, `ptb/…`, `boolq/…` and so on.
public struct DataDirectory: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// `explicit` (the `--data` option) if given, else `$BIP_DATA`, else `datasets/cache`.
    public static func resolve(_ explicit: String?) -> DataDirectory {
        if let explicit, !explicit.isEmpty { return DataDirectory(url: URL(fileURLWithPath: explicit)) }
        if let env = ProcessInfo.processInfo.environment["BIP_DATA"], !env.isEmpty {
            return DataDirectory(url: URL(fileURLWithPath: env))
        }
        return DataDirectory(url: URL(fileURLWithPath: "datasets/cache"))
    }

    /// The path of a file given relative to the data directory, such as `ptb/ptb.valid.txt`.
    public func file(_ relativePath: String) -> URL { url.appendingPathComponent(relativePath) }
}
