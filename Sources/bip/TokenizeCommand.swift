import ArgumentParser
import Runtime

/// `bip tokenize`: the token ids of a text, from a model's tokenizer or a tokenizer alone
/// (no weights are read).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text (no BOS). --model may also be a tokenizer alone: a vocabulary-only .gguf, a tokenizer.json, or a directory holding one.")
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The text to tokenize.") var text: String
    @Flag(help: "Parse special-token strings such as <|im_start|> as their single ids.") var special = false
    @Flag(help: "Print {\"ids\": [...]} instead of one line of ids.") var json = false

    func run() throws {
        try reportingErrors {
            let ids = try modelOptions.loadTokenizer().encode(text, parseSpecial: special)
            if json {
                try Console.printJSON(["ids": ids])
            } else {
                print(ids.map(String.init).joined(separator: " "))
            }
        }
    }
}
