import ArgumentParser
import Foundation
import Harness
import Runtime
import Tasks

/// `bip eval`: perplexity and zero-shot accuracy, as the reference tools compute them, into the results database.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model: WikiText2/PTB perplexity and seven zero-shot tasks; results go to the results database.")
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var computeOption: ComputeOption
    @Option(help: "Comma-separated tasks (\(TaskCatalog.names.joined(separator: ","))) or 'all'.")
    var tasks = "all"
    @Option(help: "Only the first N documents (zero-shot) or windows (perplexity) of each task, in file order.")
    var limit: Int?
    @Option(name: .customLong("protocol"), help: "llm-pruner (the paper tables) or lm-eval (current lm-evaluation-harness).")
    var evalProtocol = "llm-pruner"
    @Option(name: .customLong("seq-len"), help: "Perplexity window length in tokens.") var seqLen = 128
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print the results as JSON on stdout.") var json = false
    @Option(help: "Write one JSON line per zero-shot document to this file.") var samples: String?
    @Option(name: .customLong("output-path"), help: "Also write the run as lm-evaluation-harness results and samples files into this directory.")
    var outputPath: String?
    @Option(name: .customLong("shard-size"),
            help: "Evaluate each task in shards of N documents or windows, each on its own, and combine them (the same numbers).")
    var shardSize: Int?

    func validate() throws {
        guard EvalProtocol(rawValue: evalProtocol) != nil else {
            throw ValidationError("--protocol must be one of \(EvalProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard seqLen >= 2 else { throw ValidationError("--seq-len must be at least 2") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let shardSize, shardSize < 1 { throw ValidationError("--shard-size must be at least 1") }
        _ = try taskNames()
    }

    func taskNames() throws -> [String] {
        if tasks == "all" { return TaskCatalog.names }
        let names = tasks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !TaskCatalog.names.contains(name) {
            throw ValidationError("unknown task '\(name)' (known: \(TaskCatalog.names.joined(separator: ", ")), or all)")
        }
        return names
    }

    func run() throws {
        try reportingErrors {
            let names = try taskNames()
            let started = Date()
            let store = try ResultStore(path: database.path)
            let loaded = try modelOptions.load(for: computeOption.compute)
            let sha256 = try loaded.fileSHA256()
            var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: DataDirectory.resolve(data))
            evaluation.evalProtocol = EvalProtocol(rawValue: evalProtocol)!
            evaluation.seqLen = seqLen
            evaluation.documentLimit = limit
            evaluation.windowLimit = limit
            let options = EvaluationOptions(tasks: names, limit: limit, seqLen: seqLen, data: evaluation.data.url.path,
                                            compute: computeOption.compute)
            let run = try store.startRun(of: loaded, sha256: sha256, evalProtocol: evaluation.evalProtocol, options: options, at: started)
            var outcomes: [TaskOutcome] = []
            func evaluateTasks(writingSamplesTo samplesFile: AtomicFile?) throws {
                for name in names {
                    let meter = ProgressMeter(name, unit: TaskCatalog.spec(name)?.isPerplexity == true ? "windows" : "docs")
                    let outcome = try evaluation.run(name, shardSize: shardSize) { meter.update($0, $1, report: Console.status) }
                    try store.record(outcome, runID: run.id!)
                    if let samplesFile {
                        for sample in outcome.samples { try samplesFile.write(sample.sortedKeyJSONData(escapingSlashes: true) + Data("\n".utf8)) }
                    }
                    Console.status(Self.summary(outcome))
                    outcomes.append(outcome)
                }
            }
            // The samples file is written whole once every task has run, or not at all.
            if let samples {
                try AtomicFile.write(URL(fileURLWithPath: samples)) { try evaluateTasks(writingSamplesTo: $0) }
            } else {
                try evaluateTasks(writingSamplesTo: nil)
            }
            try store.finish(runID: run.id!, at: ISO8601DateFormatter().string(from: Date()))
            if let outputPath {
                var export = LMEvalExport(store: store, data: evaluation.data)
                export.note = Console.status
                for file in try export.write(runID: run.id!, to: URL(fileURLWithPath: outputPath)) { Console.status("wrote \(file.path)") }
            }
            let seconds = Date().timeIntervalSince(started)
            if json {
                try Console.printJSON(Self.json(outcomes, loaded: loaded, sha256: sha256, protocol: evalProtocol, seconds: seconds))
            } else {
                print(Self.table(outcomes))
                print(String(format: "run %lld stored in %@; %.1f s", run.id!, store.path, seconds))
            }
        }
    }

    static func summary(_ outcome: TaskOutcome) -> String {
        let metrics = outcome.metrics.map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(separator: ", ")
        let run = outcome.detail["tokens_run"] ?? 0, naive = outcome.detail["naive_tokens"] ?? 0
        return String(format: "%@: %@ (%.0f s; %.0f tokens run, a naive evaluator runs %.0f)", outcome.task, metrics,
                      outcome.detail["seconds"] ?? 0, run, naive)
    }

    static func table(_ outcomes: [TaskOutcome]) -> String {
        func pad(_ s: String, _ width: Int) -> String { s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }
        var lines = [pad("task", 15) + pad("metric", 10) + pad("value", 12) + pad("stderr", 10) + "n"]
        for outcome in outcomes {
            for m in outcome.metrics {
                let stderr = m.stderr.map { String(format: "%.4f", $0) } ?? "-"
                lines.append(pad(outcome.task, 15) + pad(m.name, 10) + pad(String(format: "%.4f", m.value), 12) + pad(stderr, 10) + "\(m.n)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ outcomes: [TaskOutcome], loaded: LoadedModel, sha256: String, protocol: String, seconds: Double) -> [String: Any] {
        var tasks: [String: Any] = [:]
        for outcome in outcomes {
            var entry: [String: Any] = [:]
            for m in outcome.metrics {
                entry[m.name] = m.value
                if m.name == "ppl" {
                    entry["tokens"] = m.n
                    entry["windows"] = Int(outcome.detail["windows"] ?? 0)
                    entry["seq_len"] = Int(outcome.detail["seq_len"] ?? 0)
                } else {
                    entry["\(m.name)_stderr"] = m.stderr.map { $0 as Any } ?? NSNull()
                    entry["n"] = m.n
                }
            }
            tasks[outcome.task] = entry
        }
        return ["model": ["path": loaded.path, "sha256": sha256, "parameters": loaded.model.parameterCount],
                "protocol": `protocol`, "tasks": tasks, "seconds": seconds]
    }
}
