import ArgumentParser
import Harness

@main
struct Bip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bip",
        abstract: "Prune LLaMA-family models with LLM-BIP and measure what the pruning costs.",
        version: BuildInfo.versionLine,
        subcommands: [ModelsCommand.self, TokenizeCommand.self, LogitsCommand.self, BenchCommand.self, EvalCommand.self, RunsCommand.self, DataCommand.self, PruneCommand.self, BoundsCommand.self, SweepCommand.self, WorkerCommand.self, TuneCommand.self, ReportCommand.self, GateCommand.self, ConvertCommand.self, ExportCommand.self, ImportCommand.self]
    )
}
