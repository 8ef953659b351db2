import ArgumentParser
import Foundation
import Harness
import Runtime

/// `bip report`: a sweep's report.md, results.csv and plots, from the results database alone.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a sweep's paper-style report (report.md), tidy results.csv and SVG plots.")
    @OptionGroup var database: DatabaseOption
    @Option(help: "The sweep to report (default: the only one, or the newest).") var sweep: String?
    @Option(help: "Directory to write into.") var output = "reports"

    func run() throws {
        try reportingErrors {
            let store = try ResultStore.existing(path: database.path)
            guard let name = try sweep ?? store.sweeps().last?.name else {
                throw FileError(store.path, "holds no sweep to report (run bip sweep first)")
            }
            for url in try ReportWriter(store: store, sweepName: name).write(to: URL(fileURLWithPath: output)) {
                print(url.path)
            }
        }
    }
}
