import Foundation
import Runtime

/// One tuning example as token ids: the loss covers the tokens from `responseStart` on
/// (0: every token, plain language modelling).
public struct TuningExample: Sendable, Equatable {
    public var tokens: [Int]
    public var responseStart: Int
}

/// The data of a LoRA recovery tune: an Alpaca-format instruction file, or, without one, plain
/// language modelling on the C4 calibration piece. Examples are cut at `cutoff` tokens.
public struct TuningData: Sendable {
    /// What the examples were made from, as recorded with the tune: `alpaca:PATH` or `c4:FILE`.
    public let source: String
    public let examples: [TuningExample]

    /// The Alpaca prompt (the Stanford Alpaca / LLM-Pruner template), with or without an input.
    public static func alpacaPrompt(instruction: String, input: String) -> String {
        if input.isEmpty {
            return "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n\(instruction)\n\n### Response:\n"
        }
        return "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n\(instruction)\n\n### Input:\n\(input)\n\n### Response:\n"
    }

    /// An Alpaca JSONL file: one object per line with string fields `instruction`, `output` and
    /// optionally `input`. Each example is BOS (if the tokenizer adds one) + prompt + output +
    /// EOS (if it still fits), the loss on the output only.
    public static func alpaca(path: String, tokenizer: any Tokenizer, cutoff: Int) throws -> TuningData {
        // Errors name the file by its absolute path.
        let absolute = URL(fileURLWithPath: path).standardized.path
        let records = try DataFile.jsonLines(absolute, in: DataDirectory(url: URL(fileURLWithPath: "/")))
        guard !records.isEmpty else { throw DataError(file: path, problem: "no examples") }
        let examples = try records.map { record -> TuningExample in
            let instruction = try record.string("instruction"), output = try record.string("output")
            let input = record.object["input"] == nil ? "" : try record.string("input")
            let prompt = bos(tokenizer) + tokenizer.encode(alpacaPrompt(instruction: instruction, input: input), parseSpecial: false)
            var tokens = bos(tokenizer) + tokenizer.encode(alpacaPrompt(instruction: instruction, input: input) + output, parseSpecial: false)
            if let eos = tokenizer.eosID, tokens.count < cutoff { tokens.append(eos) }
            return TuningExample(tokens: Array(tokens.prefix(cutoff)), responseStart: min(prompt.count, cutoff))
        }
        return TuningData(source: "alpaca:\(path)", examples: examples)
    }

    /// The C4 calibration piece (`c4/…first1000.jsonl`), one example per document: BOS + text,
    /// cut at `cutoff`, every token predicted.
    public static func c4(data: DataDirectory, file: String, tokenizer: any Tokenizer, cutoff: Int) throws -> TuningData {
        let examples = try DataFile.jsonLines(file, in: data).map { record in
            TuningExample(tokens: Array((bos(tokenizer) + tokenizer.encode(try record.string("text"), parseSpecial: false)).prefix(cutoff)),
                          responseStart: 0)
        }
        return TuningData(source: "c4:\(file)", examples: examples.filter { $0.tokens.count >= 2 })
    }

    private static func bos(_ tokenizer: any Tokenizer) -> [Int] {
        tokenizer.addsBOS ? tokenizer.bosID.map { [$0] } ?? [] : []
    }

    /// A seeded split into training and held-out examples: `heldOut` examples, at most a tenth.
    public func split(heldOut requested: Int, seed: UInt64) -> (training: [TuningExample], heldOut: [TuningExample]) {
        var generator = SeededGenerator(seed: seed ^ 0x4E1D_0017)
        let order = generator.permutation(examples.count)
        let count = min(requested, examples.count / 10)
        return (order[count...].map { examples[$0] }, order[..<count].map { examples[$0] })
    }
}
