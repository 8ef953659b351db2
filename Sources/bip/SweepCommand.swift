import ArgumentParser
import BIP
import Dispatch
import Foundation
import Harness
import Runtime
import Tasks

/// `bip sweep`: the overnight job. Plans the dense model and every method × sparsity × seed,
/// stores the plan, prunes (cached), measures, evaluates, and can be resumed after any interruption.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Prune and evaluate every method × sparsity × seed (and the dense model) into the SQLite store; resumable.",
        discussion: """
            The same arguments (or --name) find the same sweep again: finished tasks are never rerun.
            Ctrl-C finishes the current write and exits; `bip sweep --resume --name NAME` continues.
            """)
    @Option(help: "A .gguf file, a model directory, or a model alias.") var model: String?
    @Option(help: "Comma-separated methods (\(ImportanceMethods.names.joined(separator: ","))).") var methods: String?
    @Option(help: "Comma-separated sparsities, fractions of the total parameters, e.g. 0.1,0.2,0.3.") var sparsities: String?
    @Option(help: "Comma-separated seeds of the calibration draw (and of random).") var seeds: String?
    @Option(help: "Comma-separated tasks or 'all'.") var tasks: String?
    @Option(help: "Only the first N documents (zero-shot) or windows (perplexity) of each task.") var limit: Int?
    @Option(name: .customLong("protocol"), help: "llm-pruner or lm-eval.") var evalProtocol: String?
    @Option(name: .customLong("seq-len"), help: "Perplexity window length in tokens.") var seqLen: Int?
    @Option(help: "Calibration source NAME:NxT (c4, ptb, wikitext2).") var calibration: String?
    @Option(name: .customLong("bench-seconds"), help: "Seconds of each throughput measurement (0: none).") var benchSeconds: Double?
    @Option(name: .customLong("bench-rounds"), help: "Rounds of the interleaved dense / pruned throughput measurement.") var benchRounds: Int?
    @Flag(help: "Also tune every pruned model with LoRA (LLM-Pruner's recipe; see bip tune) and evaluate it: the \"w/ tune\" rows.") var tune = false
    @Option(name: .customLong("tune-data"), help: "Tuning data for --tune: c4 (default) or an Alpaca JSONL file.") var tuneData: String?
    @Option(name: .customLong("tune-max-steps"), help: "Stop each --tune after this many optimizer steps.") var tuneMaxSteps: Int?
    @Option(name: .customLong("tune-batch"), help: "Examples per optimizer step of --tune (default 64).") var tuneBatch: Int?
    @Option(help: "A JSON file with the sweep's fields (model, methods, sparsities, seeds, tasks, limit, protocol, seq_len, calibration, bench_seconds, bench_rounds, tune).")
    var config: String?
    @Flag(help: "The demonstration sweep: bip and wanda-sp at 0.2 on every task with --limit 30, report in reports/demo.") var demo = false
    @Option(help: "The sweep's name (default: derived from its configuration).") var name: String?
    @Flag(help: "Continue a stored sweep (by --name, or by the same arguments).") var resume = false
    @Flag(name: .customLong("retry-failed"), help: "Run the sweep's failed jobs again, then whatever is left.") var retryFailed = false
    @Flag(help: "Measure the throughput and memory of every finished job again (on a quieter machine, say), then continue.") var remeasure = false
    @Option(help: "Write the report (report.md, results.csv, plots) of the sweep to this directory when it ends.") var report: String?
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @Option(help: "The SQLite results database.") var db = "bip.sqlite"

    static let demoConfig = SweepConfig(model: "smollm2-135m", methods: ["bip", "wanda-sp"], sparsities: [0.2],
                                        tasks: TaskCatalog.names, limit: 30, calibration: "c4:64x128",
                                        benchSeconds: 3, benchRounds: 1)

    func run() throws {
        try reportingErrors { try sweep() }
    }

    /// The configuration the options describe; nil when only a name was given (resume by name).
    func requestedConfig() throws -> SweepConfig? {
        var base: SweepConfig
        if let config {
            base = try SweepConfig.load(config)
        } else if demo {
            base = Self.demoConfig
        } else if methods == nil && sparsities == nil && model == nil && tasks == nil {
            return nil
        } else {
            guard let methods, let sparsities else {
                throw ValidationError("--methods and --sparsities are needed (or --config FILE, --demo, or --resume --name NAME)")
            }
            base = SweepConfig(model: "smollm2-135m", methods: try list(methods, "--methods") { $0 },
                               sparsities: try list(sparsities, "--sparsities", Double.init), tasks: TaskCatalog.names)
        }
        if config != nil || demo, methods != nil || sparsities != nil {
            throw ValidationError("--methods/--sparsities cannot be combined with --config or --demo")
        }
        if let model { base.model = model }
        if let seeds { base.seeds = try list(seeds, "--seeds") { UInt64($0) } }
        if let tasks { base.tasks = tasks == "all" ? TaskCatalog.names : try list(tasks, "--tasks") { $0 } }
        if let limit { base.limit = limit }
        if let evalProtocol { base.evalProtocol = evalProtocol }
        if let seqLen { base.seqLen = seqLen }
        if let calibration { base.calibration = calibration }
        if let benchSeconds { base.benchSeconds = benchSeconds }
        if let benchRounds { base.benchRounds = benchRounds }
        if tune || tuneData != nil || tuneMaxSteps != nil || tuneBatch != nil {
            var settings = base.tune ?? SweepTune()
            if let tuneData { settings.data = tuneData }
            if let tuneMaxSteps { settings.options.maxSteps = tuneMaxSteps }
            if let tuneBatch {
                settings.options.batch = tuneBatch
                settings.options.microBatch = min(settings.options.microBatch, tuneBatch)
            }
            base.tune = settings
        }
        try base.validate()
        return base
    }

    private func list<T>(_ text: String, _ option: String, _ parse: (String) -> T?) throws -> [T] {
        try text.split(separator: ",").map {
            let item = $0.trimmingCharacters(in: .whitespaces)
            guard let value = parse(item) else { throw ValidationError("\(option): '\(item)' is not valid") }
            return value
        }
    }

    private func sweep() throws {
        let requested = try requestedConfig()
        let store = try ResultStore(path: db)
        let sweepName = name ?? requested?.defaultName
        guard let sweepName else { throw ValidationError("give the sweep's fields (--methods, --sparsities, …, --config or --demo) or --name NAME") }
        // One process per sweep at a time: a second would run the same jobs again.
        let lock = try SweepLock(db: db, sweep: sweepName)
        defer { lock.release() }
        var record = try store.sweep(named: sweepName)
        let config: SweepConfig
        if let record {
            let stored = try JSONDecoder().decode(SweepConfig.self, from: Data(record.config.utf8))
            if let requested, requested != stored {
                throw FileError(db, "sweep '\(sweepName)' exists with another configuration (\(record.config)); give another --name, or --resume --name \(sweepName) alone")
            }
            config = stored
            if retryFailed {
                let count = try store.resetFailed(sweepID: record.id!)
                Console.status("sweep \(sweepName): \(count) failed jobs to run again")
            } else if !resume && requested == nil {
                throw ValidationError("sweep '\(sweepName)' exists: add --resume to continue it")
            }
            Console.status("sweep \(sweepName): continuing (planned \(record.createdAt))")
        } else {
            guard let requested else {
                throw FileError(db, "no sweep named '\(sweepName)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
            }
            if resume { Console.status("sweep \(sweepName): nothing stored yet, starting it") }
            config = requested
            record = try store.plan(name: sweepName, config: config.json, jobs: config.jobs,
                                    at: ISO8601DateFormatter().string(from: Date()))
            Console.status("sweep \(sweepName): planned \(config.jobs.count) jobs in \(db)")
        }
        let interruption = Interruption(name: sweepName, db: db)
        interruption.install()
        let directory = DataDirectory.resolve(data)
        let runner = SweepRunner(store: store, sweep: record!, config: config, data: directory,
                                 probe: Self.benchProbe(data: directory), progress: Console.status)
        let started = Date()
        if remeasure { try runner.remeasure() }
        let summary = try runner.run()
        let jobs = try store.jobs(sweepID: record!.id!)
        print(String(format: "sweep %@: %d of %d jobs done, %d failed; %d tasks evaluated in this run (%@)", sweepName,
                     jobs.count { $0.status == .done }, jobs.count, jobs.count { $0.status == .failed }, summary.tasksRun,
                     ProgressMeter.duration(Date().timeIntervalSince(started))))
        for job in jobs where job.status == .failed {
            print("failed: \(job.method) @ \(job.sparsity) seed \(job.seed): \(job.error ?? "")")
        }
        if let output = report ?? (demo ? "reports/demo" : nil) {
            let written = try ReportWriter(store: store, sweepName: sweepName).write(to: URL(fileURLWithPath: output))
            print("report: \(written.map(\.path).joined(separator: ", "))")
        }
        if summary.failed > 0 || jobs.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }

    /// Throughput measured by `bip bench` in a child process, so each model's peak memory is its own.
    static func benchProbe(data: DataDirectory) -> ThroughputProbe {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return { path, against, seconds in
            let process = Process()
            process.executableURL = executable
            process.arguments = ["bench", "--model", path, "--seconds", String(seconds), "--no-sgemm", "--json", "--data", data.url.path]
                + (against.map { ["--against", $0] } ?? [])
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            Interruption.child = process.processIdentifier
            defer { Interruption.child = 0 }
            // stderr is read on another thread, so that neither pipe fills up and blocks the child.
            nonisolated(unsafe) var errors = Data()
            let drained = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                errors = err.fileHandleForReading.readDataToEndOfFile()
                drained.signal()
            }
            let output = out.fileHandleForReading.readDataToEndOfFile()
            drained.wait()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let json = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
                  let rate = json["tokens_per_second"] as? Double, let peak = json["peak_memory_bytes"] as? Int else {
                throw FileError(path, "throughput measurement failed: \(String(decoding: errors, as: UTF8.self).split(separator: "\n").last ?? "")")
            }
            let other = (json["against"] as? [String: Any])?["tokens_per_second"] as? Double
            return ThroughputFigures(tokensPerSecond: rate, againstTokensPerSecond: other, peakMemoryBytes: peak)
        }
    }
}

/// Ctrl-C (or SIGTERM) during a sweep: wait for the write under way, say how to continue, exit.
/// Everything stored stays stored; the task being evaluated is lost and run again on resume.
final class Interruption: @unchecked Sendable {
    let name: String
    let db: String
    /// The `bip bench` child running now (0: none); it is killed too, having nothing to save.
    nonisolated(unsafe) static var child: Int32 = 0
    private var sources: [DispatchSourceSignal] = []

    init(name: String, db: String) {
        self.name = name
        self.db = db
    }

    func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [name, db] in
                if Self.child > 0 { kill(Self.child, SIGKILL) }
                ResultStore.writeLock.lock()
                Console.status("\ninterrupted: every finished task is stored in \(db); continue with: bip sweep --resume --name \(name) --db \(db)")
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// An exclusive lock on one sweep of one database (`DB.sweep-NAME.lock`, flock), held while the
/// sweep runs, so that a second process asked to run the same sweep stops instead of repeating it.
final class SweepLock {
    private var descriptor: Int32

    init(db: String, sweep: String) throws {
        let safe = String(sweep.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let path = "\(db).sweep-\(safe).lock"
        descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw FileError(path, "cannot create the sweep's lock file: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw FileError(db, "sweep '\(sweep)' is being run by another process right now (lock \(path)); wait for it or stop it first")
        }
    }

    func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
