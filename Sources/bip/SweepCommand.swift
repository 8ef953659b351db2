import ArgumentParser
import BIP
import Foundation
import Harness
import Runtime
import Tasks

/// `bip sweep`: the overnight job. Plans the dense model and every method × sparsity × seed,
/// stores the plan, prunes (cached), measures, evaluates, and can be resumed after any interruption.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Prune and evaluate every method × sparsity × seed (and the dense model) into the results database; resumable.",
        discussion: """
            The same arguments (or --name) find the same sweep again: finished tasks are never rerun.
            Ctrl-C finishes the current write and exits; `bip sweep --resume --name NAME` continues.
            The sweep is stored as units (each job's model, throughput, and task shards); this process runs them as one
            worker, and more processes (`bip sweep` again, `bip worker`, a Slurm array with --slurm) share them.
            """)
    @Option(help: "A .gguf file, a model directory, or a model alias.") var model: String?
    @Option(help: "Comma-separated methods (\(ImportanceMethods.names.joined(separator: ","))).") var methods: String?
    @Option(help: "Comma-separated sparsities, fractions of the total parameters, e.g. 0.1,0.2,0.3.") var sparsities: String?
    @Option(help: "Comma-separated seeds of the calibration draw (and of random).") var seeds: String?
    @Option(help: "Comma-separated tasks or 'all'.") var tasks: String?
    @Option(help: "Only the first N documents (zero-shot) or windows (perplexity) of each task.") var limit: Int?
    @Option(name: .customLong("document-limit"), help: "Only the first N documents of each zero-shot task, every perplexity window (not with --limit).")
    var documentLimit: Int?
    @Option(name: .customLong("protocol"), help: "llm-pruner or lm-eval.") var evalProtocol: String?
    @Option(name: .customLong("seq-len"), help: "Perplexity window length in tokens.") var seqLen: Int?
    @Option(help: "Calibration source NAME:NxT (c4, ptb, wikitext2).") var calibration: String?
    @Option(name: .customLong("bench-seconds"), help: "Seconds of each throughput measurement (0: none).") var benchSeconds: Double?
    @Option(help: "The arithmetic of every evaluation: fp32 (exact, the default) or bf16 (oneDNN's BF16 matmul, AVX-512 only; pruning stays fp32).")
    var compute: String?
    @Option(name: .customLong("shard-size"), help: "Split each task into units of N documents or windows, which workers run on their own (the metrics do not change).")
    var shardSize: Int?
    @Option(name: .customLong("bench-rounds"), help: "Rounds of the interleaved dense / pruned throughput measurement.") var benchRounds: Int?
    @Flag(help: "Also tune every pruned model with LoRA (LLM-Pruner's recipe; see bip tune) and evaluate it: the \"w/ tune\" rows.") var tune = false
    @Option(name: .customLong("tune-data"), help: "Tuning data for --tune: c4 (default) or an Alpaca JSONL file.") var tuneData: String?
    @Option(name: .customLong("tune-max-steps"), help: "Stop each --tune after this many optimizer steps.") var tuneMaxSteps: Int?
    @Option(name: .customLong("tune-batch"), help: "Examples per optimizer step of --tune (default 64).") var tuneBatch: Int?
    @Option(name: .customLong("tune-recipe"), help: "The whole tune recipe as JSON ({data, held_out, options}, the config's tune object), after the other --tune options; a report's command line carries it where they cannot say it.")
    var tuneRecipe: String?
    @Option(help: "Comma-separated allocations to sweep each method over (uniform, global, global-raw); default: each method's own.")
    var allocations: String?
    @Option(help: "Comma-separated statistics passes (one-shot, sequential) for the methods that read calibration statistics; default: each method's own.")
    var statistics: String?
    @Option(name: .customLong("bias-compensation"), help: "Comma-separated on, off for the methods that read calibration statistics; default: each method's own.")
    var biasCompensation: String?
    @Option(help: "Comma-separated layer ranges to prune (A..<B or all); default: skip the first L/8 and the last L/16 layers.")
    var layers: String?
    @Option(help: ArgumentHelp("Explicit jobs after the methods' cross product, as a JSON list of {method, sparsities, allocation?, statistics?, bias_compensation?, layers?, tune?, tasks?}.",
                               valueName: "json"))
    var variants: String?
    @Option(help: "A JSON file with the sweep's fields (model, methods, sparsities, seeds, tasks, limit, document_limit, protocol, seq_len, calibration, bench_seconds, bench_rounds, tune, allocations, statistics, bias_compensation, layers, variants, compute).")
    var config: String?
    @Flag(help: "The demonstration sweep: bip and wanda-sp at 0.2 on every task with --limit 30, report in reports/demo.") var demo = false
    @Option(help: "The sweep's name (default: derived from its configuration).") var name: String?
    @Flag(help: "Continue a stored sweep (by --name, or by the same arguments).") var resume = false
    @Flag(name: .customLong("retry-failed"), help: "Run the sweep's failed jobs again, then whatever is left.") var retryFailed = false
    @Flag(help: "Print where the sweep stands (per job: units done, running by which worker, failed, pending) and an ETA, then exit.")
    var status = false
    @Flag var remeasure: RemeasureFlag?
    @Option(help: "Write the report (report.md, results.csv, plots) of the sweep to this directory when it ends.") var report: String?
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @OptionGroup var database: DatabaseOption
    @OptionGroup(title: "Slurm") var cluster: SlurmOptions

    static let demoConfig = SweepConfig(model: "smollm2-135m", methods: ["bip", "wanda-sp"], sparsities: [0.2],
                                        tasks: TaskCatalog.names, limit: 30, calibration: "c4:64x128",
                                        benchSeconds: 3, benchRounds: 1)

    func run() throws {
        do {
            try reportingErrors { try sweep() }
        } catch let error as SweepUsageError {
            throw ValidationError(error.description)
        }
    }

    /// The configuration the options describe; nil when only a name was given (resume by name).
    func requestedConfig() throws -> SweepConfig? {
        var base: SweepConfig
        if let config {
            base = try SweepConfig.load(config)
        } else if demo {
            base = Self.demoConfig
        } else if methods == nil && sparsities == nil && model == nil && tasks == nil && variants == nil {
            return nil
        } else {
            guard methods != nil && sparsities != nil || variants != nil else {
                throw ValidationError("--methods and --sparsities (or --variants) are needed (or --config FILE, --demo, or --resume --name NAME)")
            }
            base = SweepConfig(model: "smollm2-135m", methods: [], sparsities: [], tasks: TaskCatalog.names)
        }
        if config != nil || demo, methods != nil || sparsities != nil || variants != nil {
            throw ValidationError("--methods/--sparsities/--variants cannot be combined with --config or --demo")
        }
        let given: [String: String?] = [
            "model": model, "methods": methods, "sparsities": sparsities, "seeds": seeds, "tasks": tasks,
            "limit": limit.map(String.init), "document-limit": documentLimit.map(String.init), "variants": variants, "protocol": evalProtocol, "seq-len": seqLen.map(String.init), "calibration": calibration,
            "bench-seconds": benchSeconds.map { "\($0)" }, "bench-rounds": benchRounds.map(String.init), "shard-size": shardSize.map(String.init), "compute": compute, "tune": tune ? "" : nil,
            "tune-data": tuneData, "tune-max-steps": tuneMaxSteps.map(String.init), "tune-batch": tuneBatch.map(String.init),
            "tune-recipe": tuneRecipe,
            "allocations": allocations, "statistics": statistics, "bias-compensation": biasCompensation, "layers": layers,
        ]
        for option in SweepOption.all {
            guard let value = given[option.flag] else { throw ValidationError("bip sweep does not read its option --\(option.flag)") }
            if let value { try option.apply(value, to: &base) }
        }
        try base.validate()
        return base
    }

    private func sweep() throws {
        let requested = try requestedConfig()
        if status { return try printStatus(name: name ?? requested?.defaultName) }
        let session = try SweepSession(db: database.path, name: name, requested: requested, resume: resume, retryFailed: retryFailed,
                                       progress: Console.status)
        if cluster.slurm { return try cluster.submit(session, reportDirectory: report ?? ".", data: data) }
        let sweepName = session.record.name
        let directory = DataDirectory.resolve(data)
        let started = Date()
        let summary = try session.run(data: directory, probe: BenchProbe.childProcess(data: directory), remeasure: remeasure?.jobs,
                                      progress: Console.status)
        let jobs = try session.jobs()
        print(String(format: "sweep %@: %d of %d jobs done, %d failed; %d tasks evaluated in this run (%@)", sweepName,
                     jobs.count { $0.status == .done }, jobs.count, jobs.count { $0.status == .failed }, summary.tasksRun,
                     ProgressMeter.duration(Date().timeIntervalSince(started))))
        for job in jobs where job.status == .failed {
            print("failed: \(job.methodLabel) @ \(job.sparsity) seed \(job.seed): \(job.error ?? "")")
        }
        if let output = report ?? (demo ? "reports/demo" : nil) {
            let written = try ReportWriter(store: session.store, sweepName: sweepName).write(to: URL(fileURLWithPath: output))
            print("report: \(written.map(\.path).joined(separator: ", "))")
        }
        if summary.failed > 0 || jobs.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }

    /// `--status`: where the stored sweep stands.
    private func printStatus(name: String?) throws {
        guard let name else { throw ValidationError("--status needs --name NAME (or the sweep's fields)") }
        let store = try ResultStore.existing(path: database.path)
        guard let record = try store.sweep(named: name) else {
            throw FileError(store.path, "no sweep named '\(name)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
        }
        print("sweep \(name) in \(store.path)\n")
        print(try SweepStatus(store: store, sweepID: record.id!, config: try SweepWorker.Target(record, in: store).config).table)
    }
}

/// `bip sweep --remeasure` or `--remeasure-implausible`: which finished jobs to measure again first.
enum RemeasureFlag: EnumerableFlag {
    case remeasure, remeasureImplausible

    static func help(for value: RemeasureFlag) -> ArgumentHelp? {
        switch value {
        case .remeasure: "Measure the throughput and memory of every finished job again (on a quieter machine, say), then continue."
        case .remeasureImplausible: "Measure again only the jobs whose speed-up their MACs cannot explain (the report's ¶), then continue."
        }
    }

    var jobs: SweepWorker.Remeasure {
        switch self {
        case .remeasure: .every
        case .remeasureImplausible: .implausible
        }
    }
}
