import ArgumentParser
import Foundation
import Harness
import Runtime

/// `bip import lm-eval`: lm-evaluation-harness result files into the store as imported runs.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Store another tool's evaluation results as imported runs.",
        subcommands: [LMEval.self])

    struct LMEval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lm-eval",
            abstract: "Import lm-evaluation-harness output (results_<date>.json and its samples_<task>_<date>.jsonl files).")
        @Argument(help: "A results file, or a directory searched for them (each is one run).") var path: String
        @OptionGroup var database: DatabaseOption

        func run() throws {
            try reportingErrors {
                var importer = LMEvalImport(store: try ResultStore(path: database.path))
                importer.note = Console.status
                for run in try importer.run(path) {
                    let tasks = Set(try importer.store.metrics(runID: run.id!).map(\.task)).sorted().joined(separator: ",")
                    print("run \(run.id!) imported: \(run.source!.label); tasks \(tasks)")
                }
            }
        }
    }
}
