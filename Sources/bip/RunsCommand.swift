import ArgumentParser
import Foundation
import Harness

/// `bip runs`: the evaluation runs stored in a results database.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the evaluation runs stored in the results database.")
    @OptionGroup var database: DatabaseOption

    func run() throws {
        try reportingErrors {
            let store = try ResultStore.existing(path: database.path)
            for run in try store.runs() {
                let tasks = Set(try store.metrics(runID: run.id!).map(\.task)).sorted().joined(separator: ",")
                let imported = run.source.map { "\timported from \($0.label)" } ?? ""
                print("\(run.id!)\t\(run.startedAt)\t\(run.finishedAt ?? "unfinished")\t\(run.evalProtocol)\t\(run.modelPath)\t\(tasks)\(imported)")
            }
        }
    }
}
