import ArgumentParser
import Foundation
import Runtime

/// `bip convert`: writes a model (a GGUF, an alias, or a model directory) as a Hugging Face style
/// directory: model.safetensors (HF names, rotate-half q/k rows), config.json and tokenizer.gguf.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a model as a Hugging Face style directory (safetensors, config.json, tokenizer.gguf).")
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The directory to write (created if needed).") var output: String
    @Option(help: "Weight type of the written model: f32 or f16.") var dtype = "f32"

    func validate() throws {
        guard Safetensors.DType(rawValue: dtype.uppercased()) != nil else { throw ValidationError("--dtype must be f32 or f16") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try modelOptions.load()
            Console.status("writing \(output)")
            try ModelDirectory.write(loaded.model, to: URL(fileURLWithPath: output),
                                     dtype: Safetensors.DType(rawValue: dtype.uppercased())!, provenance: nil,
                                     tokenizerSource: try loaded.tokenizerSource())
            print(output)
        }
    }
}
