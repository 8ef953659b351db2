import ArgumentParser
import Foundation
import Runtime

/// The `--model` option shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A .gguf file, a model directory (config.json, safetensors, tokenizer.gguf), or a model alias (\(KnownModel.all.map(\.alias).joined(separator: ", "))). Aliases are fetched into $BIP_HOME on first use.")
    var model: String = "smollm2-135m"

    /// The model, prepared for evaluation in `compute` (`LlamaModel.prepare(for:)`); nil leaves it
    /// as loaded, for the commands that change or train it.
    func load(for compute: ComputePrecision? = nil) throws -> LoadedModel {
        let started = Date()
        var loaded = try LoadedModel.load(model, progress: Console.status)
        Console.status(String(format: "loaded %@ (%d parameters) in %.1f s", loaded.path,
                              loaded.model.parameterCount, Date().timeIntervalSince(started)))
        if let compute {
            let packing = Date()
            try loaded.prepare(for: compute)
            Console.status(String(format: "prepared for %@ compute in %.1f s", compute.rawValue, Date().timeIntervalSince(packing)))
        }
        return loaded
    }

    /// Only the tokenizer of `model`, without reading any weights: `model` may also be a
    /// vocabulary-only GGUF, a tokenizer.json, or a directory holding one.
    func loadTokenizer() throws -> any Tokenizer {
        try TokenizerLoader.load(path: ModelCache().resolve(model, progress: Console.status).path)
    }
}

/// Reports a bad-input error (model file, data file, results database, pruning request) as one
/// clean line on stderr and exit status 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as any InputError {
        Console.status("error: \(error)")
        throw ExitCode(1)
    }
}
