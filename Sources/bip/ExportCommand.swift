import ArgumentParser
import Foundation
import Harness
import Runtime
import Tasks

/// `bip export`: a stored run, or every run of a sweep, as lm-evaluation-harness result files.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored run (or each run of a sweep) as lm-evaluation-harness results and samples files.")
    @OptionGroup var database: DatabaseOption
    @Option(name: .customLong("run"), help: "The evaluation run to export (see bip runs).") var runID: Int64?
    @Option(help: "Export every finished run of this sweep, one subdirectory per job.") var sweep: String?
    @Option(name: .customLong("output-path"), help: "Directory to write into (the model's sanitized name is a subdirectory, as in the harness).")
    var outputPath: String
    @Option(help: "Data directory the documents' text is read from (default: the one the run read).") var data: String?

    func validate() throws {
        guard (runID == nil) != (sweep == nil) else { throw ValidationError("give exactly one of --run and --sweep") }
    }

    func run() throws {
        try reportingErrors {
            var export = LMEvalExport(store: try ResultStore.existing(path: database.path), data: data.map { DataDirectory(url: URL(fileURLWithPath: $0)) })
            export.note = Console.status
            let directory = URL(fileURLWithPath: outputPath)
            let files = try runID.map { try export.write(runID: $0, to: directory) } ?? export.write(sweep: sweep!, to: directory)
            for file in files { print(file.path) }
        }
    }
}
