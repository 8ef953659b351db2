import Foundation
import ArgumentParser
import Runtime

/// `bip models fetch ALIAS` and `bip models list`.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "Fetch and list the models bip knows by name.",
        subcommands: [Fetch.self, List.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a known model into the cache and verify its sha256.")
        @Argument(help: "The model alias: \(KnownModel.all.map(\.alias).joined(separator: " or ")).") var alias: String

        func run() throws {
            try reportingErrors {
                guard let known = KnownModel.named(alias) else {
                    throw FileError(alias, "unknown model alias (known: \(KnownModel.all.map(\.alias).joined(separator: ", ")))")
                }
                let url = try ModelCache().file(for: known, progress: Console.status)
                print(url.path)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known model aliases and whether each is cached.")
        func run() throws {
            let cache = ModelCache()
            for known in KnownModel.all {
                let path = cache.directory.appendingPathComponent(known.fileName).path
                let cached = FileManagerCheck.exists(path) ? path : "not fetched"
                print("\(known.alias)\t\(known.pipRequirements)\t\(cached)")
            }
        }
    }
}

enum FileManagerCheck {
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
