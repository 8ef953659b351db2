import ArgumentParser

@main
struct Bip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bip",
        abstract: "Prune LLaMA-family models with LLM-BIP and measure what the pruning costs.",
        subcommands: [ModelsCommand.self, TokenizeCommand.self, LogitsCommand.self, BenchCommand.self]
    )
}
