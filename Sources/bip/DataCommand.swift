import ArgumentParser
import Foundation
import Tasks

/// `bip data verify` and `bip data fetch`: the data sets against their manifests in `datasets/`.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Check or download the evaluation and calibration data sets.",
        subcommands: [Verify.self, Fetch.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every data file's size and sha256 against its manifest.")
        @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?

        func run() throws {
            let directory = DataDirectory.resolve(data)
            let verifier = DataVerifier(dataDirectory: directory)
            var failures = 0
            for manifest in try reportingErrors({ try DatasetManifest.loadAll() }) {
                for file in manifest.files {
                    do {
                        try verifier.verify(file)
                        print("ok      \(file.path)")
                    } catch {
                        failures += 1
                        print("FAILED  \(directory.file(file.path).path): \(error)")
                    }
                }
            }
            if failures > 0 {
                Console.status("\(failures) file(s) failed verification")
                throw ExitCode(1)
            }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download missing or damaged data files from the manifest URLs, verifying each.")
        @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?

        func run() async throws {
            let fetcher = DataFetcher(dataDirectory: DataDirectory.resolve(data))
            var failures = 0
            for manifest in try reportingErrors({ try DatasetManifest.loadAll() }) {
                let report = await fetcher.fetch(manifest)
                for path in report.present { print("present \(path)") }
                for path in report.fetched { print("fetched \(path)") }
                for error in report.failed { print("FAILED  \(error)") }
                failures += report.failed.count
            }
            if failures > 0 {
                Console.status("\(failures) file(s) could not be fetched")
                throw ExitCode(1)
            }
        }
    }
}
