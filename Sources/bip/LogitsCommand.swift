import ArgumentParser
import Foundation
import Runtime

/// `bip logits`: one forward pass over a text or ids, with the fields of the reference fixtures.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Run the model over a text or token ids: last-position logits, next-token log-probabilities, argmax.")
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var computeOption: ComputeOption
    @Option(help: "The input text (tokenized without BOS).") var text: String?
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String?
    @Flag(help: "Print {\"ids\", \"last_logits\", \"next_token_logprobs\", \"argmax\"} as JSON.") var json = false

    func validate() throws {
        guard (text == nil) != (ids == nil) else { throw ValidationError("give exactly one of --text and --ids") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try modelOptions.load(for: computeOption.compute)
            let tokens: [Int]
            if let ids {
                tokens = try ids.split(separator: ",").map { part -> Int in
                    let trimmed = part.trimmingCharacters(in: .whitespaces)
                    guard let id = Int(trimmed), id >= 0, id < loaded.model.config.vocabularySize else {
                        throw ValidationError("'\(trimmed)' is not a token id (0..<\(loaded.model.config.vocabularySize))")
                    }
                    return id
                }
            } else {
                tokens = loaded.tokenizer.encode(text!, parseSpecial: false)
            }
            guard !tokens.isEmpty else { throw ValidationError("the input has no tokens") }
            let result = NextTokenScores(model: loaded.model, tokens: tokens)
            if json {
                try Console.printJSON([
                    "ids": tokens,
                    "last_logits": result.lastLogits.map(Double.init),
                    "next_token_logprobs": result.nextTokenLogProbs,
                    "argmax": result.argmax,
                ])
            } else {
                let meanNLL = result.nextTokenLogProbs.isEmpty ? 0 : -result.nextTokenLogProbs.reduce(0, +) / Double(result.nextTokenLogProbs.count)
                print("tokens: \(tokens.count)")
                print(String(format: "mean NLL: %.6f", meanNLL))
                print("argmax: \(result.argmax.map(String.init).joined(separator: " "))")
                let top = result.lastLogits.enumerated().sorted { $0.element > $1.element }.prefix(10)
                print("last position top-10: " + top.map { String(format: "%d:%.4f", $0.offset, $0.element) }.joined(separator: " "))
            }
        }
    }
}
