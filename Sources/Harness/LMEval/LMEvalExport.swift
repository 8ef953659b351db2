import Foundation
import Runtime
import Tasks

/// Writes a stored evaluation run as lm-evaluation-harness 0.4 writes one (`--output_path` with
/// `--log_samples`): `results_<date>.json` and a `samples_<task>_<date>.jsonl` per task, in
/// `DIRECTORY/<sanitized model path>/`. What each field holds, and where bip's values differ in
/// kind from the harness's, is in README.md, "lm-evaluation-harness files".
public struct LMEvalExport {
    public let store: ResultStore
    /// The data directory the documents' text is read from; nil: the one the run read.
    public var data: DataDirectory?
    /// Notes on what could not be written (missing data files), for stderr.
    public var note: (String) -> Void = { _ in }

    public init(store: ResultStore, data: DataDirectory? = nil) {
        self.store = store
        self.data = data
    }

    /// Writes run `runID` into `directory` and returns the files written.
    public func write(runID: Int64, to directory: URL) throws -> [URL] {
        guard let run = try store.run(id: runID) else { throw FileError(store.path, "no evaluation run \(runID)") }
        let options = try JSONDecoder().decode(EvaluationOptions.self, from: Data(run.options.utf8))
        let metrics = try store.metrics(runID: runID)
        let tasks = options.tasks.filter { task in metrics.contains { $0.task == task } }
        guard !tasks.isEmpty else { throw FileError(store.path, "evaluation run \(runID) has no results to export") }
        let folder = directory.appendingPathComponent(LMEvalLayout.sanitizedModelName(run.modelPath))
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw FileError(folder.path, "cannot create the directory: \(error.localizedDescription)")
        }
        let dateID = LMEvalLayout.dateID(startedAt: run.startedAt)
        let data = self.data ?? DataDirectory(url: URL(fileURLWithPath: options.data))

        var written: [URL] = []
        var results: [String: JSONValue] = [:], configs: [String: JSONValue] = [:], counts: [String: JSONValue] = [:]
        var hashes: [String: JSONValue] = [:]
        for task in tasks {
            let taskMetrics = metrics.filter { $0.task == task }
            let spec = TaskCatalog.spec(task)
            let lines: [JSONValue]
            let documentCount: Int?
            if spec?.isPerplexity == true {
                let windows = try store.windows(runID: runID, task: task)
                lines = windows.map { Self.windowLine($0, seqLen: options.seqLen) }
                documentCount = options.limit == nil ? windows.count : nil
            } else {
                let samples = try store.samples(runID: runID, task: task)
                let documents = try documents(task, from: data)
                lines = try samples.map { try Self.documentLine($0, task: task, documents: documents, metrics: taskMetrics.map(\.metric)) }
                documentCount = documents?.documents.count
                if documents != nil, !lines.isEmpty {
                    let joined = lines.compactMap { line -> String? in
                        guard let o = line.object, let d = o["doc_hash"]?.string, let p = o["prompt_hash"]?.string,
                              let t = o["target_hash"]?.string else { return nil }
                        return d + p + t
                    }.joined()
                    hashes[task] = .string(SHA256.hex(of: Data(joined.utf8)))
                }
            }
            var entry: [String: JSONValue] = ["alias": .string(task)]
            for metric in taskMetrics {
                entry["\(metric.metric),none"] = .double(metric.value)
                entry["\(metric.metric)_stderr,none"] = metric.stderr.map(JSONValue.double) ?? .string("N/A")
            }
            // A perplexity corpus's windows: those stored, else (a run older than stored windows) its detail's count.
            let windows = lines.isEmpty ? (taskMetrics[0].detail.flatMap { try? JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) }?["windows"])
                .map(Int.init) ?? 0 : lines.count
            let effective = spec?.isPerplexity == true ? windows : taskMetrics[0].n
            results[task] = .object(entry)
            counts[task] = .object(["original": documentCount.map(JSONValue.int) ?? .null, "effective": .int(effective)])
            configs[task] = Self.taskConfig(task, spec: spec, run: run, options: options)
            if !lines.isEmpty {
                let url = folder.appendingPathComponent(LMEvalLayout.samplesFile(task: task, dateID))
                try Self.save(lines.map { $0.pythonJSON(indent: nil) }.joined(separator: "\n") + "\n", to: url)
                written.append(url)
            }
        }
        let file = Self.resultsObject(run: run, options: options, tasks: tasks, results: results, configs: configs,
                                      counts: counts, hashes: hashes)
        let url = folder.appendingPathComponent(LMEvalLayout.resultsFile(dateID))
        try Self.save(file.pythonJSON(), to: url)
        return [url] + written
    }

    /// Writes every done job of sweep `sweepName`, each run into its own subdirectory of
    /// `directory` named for the job (`dense`, `bip-0.20-seed0`, ...), and returns the files written.
    public func write(sweep sweepName: String, to directory: URL) throws -> [URL] {
        guard let sweep = try store.sweep(named: sweepName) else {
            throw FileError(store.path, "no sweep named '\(sweepName)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
        }
        var written: [URL] = []
        for job in try store.jobs(sweepID: sweep.id!) where job.status == .done {
            guard let runID = job.evalRunID else { continue }
            let name = job.isDense ? "dense" : String(format: "%@-%.2f-seed%lld", job.methodLabel, job.sparsity, job.seed)
            written += try write(runID: runID, to: directory.appendingPathComponent(LMEvalLayout.sanitizedModelName(
                name.replacingOccurrences(of: " ", with: "-"))))
        }
        guard !written.isEmpty else { throw FileError(store.path, "sweep '\(sweepName)' has no finished job to export") }
        return written
    }

    /// The documents of zero-shot task `task` with each one's record as it stands in the data
    /// file, or nil (with a note) when the data is not at hand.
    private func documents(_ task: String, from data: DataDirectory) throws -> (documents: [ZeroShotDocument], records: [String])? {
        guard let spec = TaskCatalog.spec(task) else { return nil }
        do {
            let documents = try ZeroShotTask.load(task, from: data).documents
            let text = String(decoding: try Data(contentsOf: data.file(spec.file)), as: UTF8.self)
            return (documents, text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        } catch {
            note("\(task): no doc or arguments in the samples (the task's data is not at hand: \(error))")
            return nil
        }
    }

    /// The top-level object of `results_<date>.json`.
    private static func resultsObject(run: EvalRun, options: EvaluationOptions, tasks: [String], results: [String: JSONValue],
                                      configs: [String: JSONValue], counts: [String: JSONValue], hashes: [String: JSONValue]) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        let started = formatter.date(from: run.startedAt)
        let finished = run.finishedAt.flatMap(formatter.date(from:))
        let seconds = started.flatMap { start in finished.map { $0.timeIntervalSince(start) } }
        var bip = run
        bip.id = nil
        let record = (try? JSONValue.parse(bip.sortedKeyJSONData(), file: "run")) ?? .null
        let config: [String: JSONValue] = [
            // An imported run's model type is that of the tool it came from, named by its source.
            "model": .string(run.source.map { "imported from \($0.harness)" } ?? "bip"),
            "model_args": .string("pretrained=\(run.modelPath)"),
            "model_num_parameters": .int(run.parameters),
            "batch_size": .string("\(LoglikelihoodScorer.defaultTokenBudget) tokens"),
            "batch_sizes": .array([]),
            "device": .string("cpu"),
            "limit": options.limit.map(JSONValue.int) ?? options.documentLimit.map(JSONValue.int) ?? .null,
            "bip": record,
        ]
        var file: [String: JSONValue] = [
            "results": .object(results),
            "group_subtasks": .object(Dictionary(uniqueKeysWithValues: tasks.map { ($0, JSONValue.array([])) })),
            "configs": .object(configs),
            "versions": .object(Dictionary(uniqueKeysWithValues: tasks.map { ($0, JSONValue.string("bip \(run.evalProtocol)")) })),
            "n-shot": .object(Dictionary(uniqueKeysWithValues: tasks.map { ($0, JSONValue.int(0)) })),
            "higher_is_better": .object(Dictionary(uniqueKeysWithValues: tasks.map { task in
                (task, JSONValue.object(Dictionary(uniqueKeysWithValues: (TaskCatalog.spec(task)?.metrics ?? []).map { ($0, JSONValue.bool($0 != "ppl")) })))
            })),
            "n-samples": .object(counts),
            "config": .object(config),
            "git_hash": run.bipCommit.map { .string(String($0.prefix(7))) } ?? .null,
            "date": started.map { .double($0.timeIntervalSince1970) } ?? .null,
            "task_hashes": .object(hashes),
            "model_source": .string("bip"),
            "model_name": .string(run.modelPath),
            "model_name_sanitized": .string(LMEvalLayout.sanitizedModelName(run.modelPath)),
            "bip_version": .string(run.bipVersion),
        ]
        if let seconds { file["total_evaluation_time_seconds"] = .string("\(seconds)") }
        return .object(file)
    }

    /// A task's entry of `configs`: what bip ran, in the harness's field names.
    private static func taskConfig(_ task: String, spec: TaskSpec?, run: EvalRun, options: EvaluationOptions) -> JSONValue {
        let perplexity = spec?.isPerplexity == true
        var config: [String: JSONValue] = [
            "task": .string(task),
            "dataset_path": .string(spec?.files.joined(separator: ",") ?? task),
            "output_type": .string(perplexity ? "bip_perplexity_windows" : "multiple_choice"),
            "num_fewshot": .int(0),
            "metric_list": .array((spec?.metrics ?? []).map { metric in
                .object(["metric": .string(metric), "aggregation": .string(metric == "ppl" ? "perplexity" : "mean"),
                         "higher_is_better": .bool(metric != "ppl")])
            }),
            "metadata": .object(["bip_protocol": .string(run.evalProtocol)]),
        ]
        if perplexity {
            config["description"] = .string("bip's perplexity (LLM-Pruner's protocol): non-overlapping windows of \(options.seqLen) tokens, "
                                            + "exp of the mean token NLL; not the harness's wikitext task (word/byte perplexity of whole documents)")
            config["metadata"] = .object(["bip_protocol": .string(run.evalProtocol), "seq_len": .int(options.seqLen)])
        } else {
            config["target_delimiter"] = .string(" ")
        }
        return .object(config)
    }

    /// One line of a zero-shot task's samples file. `resps` / `filtered_resps` hold each choice's
    /// (loglikelihood, is_greedy) as the harness writes them (Python's `str` of each: "-1.25",
    /// "False"), with `null` for `is_greedy` where the store does not know it (samples stored
    /// before bip recorded it); `doc` and `arguments` come from the data file when it is at hand.
    static func documentLine(_ sample: DocumentSample, task: String, documents: (documents: [ZeroShotDocument], records: [String])?,
                             metrics: [String]) throws -> JSONValue {
        let loglikelihoods = try JSONDecoder().decode([Double].self, from: Data(sample.loglikelihoods.utf8))
        let tokens = try JSONDecoder().decode([Int].self, from: Data(sample.continuationTokens.utf8))
        let greedy = try sample.isGreedy.map { try JSONDecoder().decode([Bool].self, from: Data($0.utf8)) }
        guard greedy == nil || greedy?.count == loglikelihoods.count else {
            throw FileError(task, "document \(sample.docIndex) has \(loglikelihoods.count) loglikelihoods and \(greedy!.count) greedy flags")
        }
        let pairs = loglikelihoods.indices.map { i in
            JSONValue.array([.string("\(loglikelihoods[i])"), greedy.map { .string($0[i] ? "True" : "False") } ?? .null])
        }
        var target = String(sample.gold)
        var line: [String: JSONValue] = [
            "doc_id": .int(sample.docIndex),
            "resps": .array(pairs.map { .array([$0]) }),
            "filtered_resps": .array(pairs),
            "filter": .string("none"),
            "metrics": .array(metrics.map(JSONValue.string)),
            "bip_continuation_tokens": .array(tokens.map(JSONValue.int)),
        ]
        if metrics.contains("acc") { line["acc"] = .double(sample.predictionAcc == sample.gold ? 1 : 0) }
        if metrics.contains("acc_norm"), let prediction = sample.predictionAccNorm { line["acc_norm"] = .double(prediction == sample.gold ? 1 : 0) }
        if let documents {
            // Documents are in file order, so document i is on line i + 1 of the data file.
            guard documents.documents.indices.contains(sample.docIndex), documents.records.indices.contains(sample.docIndex),
                  case let document = documents.documents[sample.docIndex], document.index == sample.docIndex,
                  document.choiceCount == loglikelihoods.count, document.gold == sample.gold else {
                throw FileError(task, "the data file does not hold document \(sample.docIndex) as the run scored it")
            }
            let doc = try JSONValue.parse(Data(documents.records[sample.docIndex].utf8), file: TaskCatalog.spec(task)?.file ?? task,
                                          line: sample.docIndex + 1)
            // The harness's target: the gold index, or (winogrande, one continuation for every
            // context) the continuation's text.
            if document.contexts.count > 1 { target = String(document.continuations[0].dropFirst()) }
            line["doc"] = doc
            line["arguments"] = .object(Dictionary(uniqueKeysWithValues: (0..<document.choiceCount).map { i in
                ("gen_args_\(i)", JSONValue.object(["arg_0": .string(document.context(i)), "arg_1": .string(document.continuation(i))]))
            }))
            line["doc_hash"] = .string(SHA256.hex(of: Data(doc.pythonJSON().utf8)))
            line["prompt_hash"] = .string(SHA256.hex(of: Data(document.context(0).utf8)))
        }
        line["target"] = .string(target)
        line["target_hash"] = .string(SHA256.hex(of: Data(target.utf8)))
        return .object(line)
    }

    /// One line of a perplexity corpus's samples file: a window, its loglikelihood (minus its NLL
    /// sum) and, as the harness writes a weighted perplexity's per-document value, `ppl` as
    /// [loglikelihood, tokens scored].
    static func windowLine(_ window: PerplexityWindow, seqLen: Int) -> JSONValue {
        let loglikelihood = -window.nllSum
        return .object([
            "doc_id": .int(window.windowIndex),
            "doc": .object(["window": .int(window.windowIndex), "seq_len": .int(seqLen)]),
            "target": .string(""),
            "resps": .array([.array([.string("\(loglikelihood)")])]),
            "filtered_resps": .array([.string("\(loglikelihood)")]),
            "filter": .string("none"),
            "metrics": .array([.string("ppl")]),
            "ppl": .array([.double(loglikelihood), .int(window.tokens)]),
        ])
    }

    private static func save(_ text: String, to url: URL) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw FileError(url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}
