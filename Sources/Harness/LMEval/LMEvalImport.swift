import Foundation
import Runtime
import Tasks

/// Reads lm-evaluation-harness 0.4 output (a `results_<date>.json` and the `samples_<task>_<date>.jsonl`
/// beside it, the harness's or bip's own export) into the store as an imported evaluation run:
/// its metrics, and where a samples file holds loglikelihoods, its documents' answers (and a bip
/// export's perplexity windows). Groups are left out (their subtasks are imported); tasks bip does
/// not know are imported under their own names. A malformed file is a `DataError` naming the
/// file, the line of a samples file, and the field.
public struct LMEvalImport {
    public let store: ResultStore
    /// Notes on what was left out (groups, samples files without loglikelihoods), for stderr.
    public var note: (String) -> Void = { _ in }

    public init(store: ResultStore) { self.store = store }

    /// Imports `path` (a results file, or a directory searched for them) and returns the runs
    /// stored, one per results file in path order.
    public func run(_ path: String) throws -> [EvalRun] {
        try Self.resultsFiles(in: path).map { try importRun($0) }
    }

    static func resultsFiles(in path: String) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, problem: "no such file or directory")
        }
        let url = URL(fileURLWithPath: path)
        guard isDirectory.boolValue else { return [url] }
        let files = (FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? [])
            .filter { LMEvalLayout.dateID(ofResultsFile: $0.lastPathComponent) != nil }
            .sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw DataError(file: path, problem: "holds no results_<date>.json file") }
        return files
    }

    /// One results file, with its samples files, as one run in one transaction.
    func importRun(_ url: URL) throws -> EvalRun {
        let file = url.path
        guard let data = FileManager.default.contents(atPath: file) else { throw DataError(file: file, problem: "cannot read") }
        guard let top = try JSONValue.parse(data, file: file).object else {
            throw DataError(file: file, problem: "not a JSON object (an lm-evaluation-harness results file)")
        }
        let fields = Fields(file: file, object: top, path: "")
        let results = try fields.object("results")
        let config = try fields.optionalObject("config")
        let groups = Set((try fields.optionalObject("groups"))?.object.keys.map { $0 } ?? [])
            .union((try fields.optionalObject("group_subtasks"))?.object.filter { !($0.value.array ?? []).isEmpty }.keys.map { $0 } ?? [])
        let bipRun = config.flatMap { $0.object["bip"] }.flatMap { try? JSONDecoder().decode(EvalRun.self, from: $0.sortedKeyJSONData()) }
        let bipOptions = bipRun.flatMap { try? JSONDecoder().decode(EvaluationOptions.self, from: Data($0.options.utf8)) }
        let ordered = (bipOptions?.tasks ?? []).filter { results.object[$0] != nil }
        let tasks = ordered + results.object.keys.filter { !ordered.contains($0) }.sorted()
        for group in tasks where groups.contains(group) { note("\(file): \(group) is a group; its subtasks are imported, not its aggregate") }

        let dateID = LMEvalLayout.dateID(ofResultsFile: url.lastPathComponent)
        let folder = url.deletingLastPathComponent()
        var imported: [(task: String, metrics: [TaskMetric], samples: [DocumentSample], windows: [PerplexityWindow])] = []
        for task in tasks where !groups.contains(task) {
            let entry = try results.object(task)
            let samplesURL = dateID.map { folder.appendingPathComponent(LMEvalLayout.samplesFile(task: task, $0)) }
            let lines = try samplesURL.flatMap { FileManager.default.fileExists(atPath: $0.path) ? try Self.lines($0.path) : nil }
            let delimiter = (try? fields.optionalObject("configs")?.optionalObject(task)?.object["target_delimiter"]?.string) ?? " "
            var samples: [DocumentSample] = [], windows: [PerplexityWindow] = []
            if let lines, let samplesURL {
                if entry.object["ppl,none"] != nil {
                    windows = try lines.map { try Self.window($0, task: task) }
                } else if let parsed = try Self.documents(lines, task: task, delimiter: delimiter, strict: TaskCatalog.spec(task) != nil) {
                    samples = parsed
                } else {
                    note("\(samplesURL.path): not imported (its responses are not loglikelihoods)")
                }
            }
            var metrics = try Self.metrics(entry, task: task)
            let n = try windows.isEmpty ? count(task, entry: entry, fields: fields, samples: lines?.count) : windows.reduce(0) { $0 + $1.tokens }
            for i in metrics.indices { metrics[i].n = n }
            imported.append((task, metrics, samples, windows))
        }
        guard imported.contains(where: { !$0.metrics.isEmpty }) else { throw DataError(file: file, field: "results", problem: "no task with a metric") }

        let model = try fields.optionalString("model_name").flatMap { $0.isEmpty ? nil : $0 }
            ?? config.flatMap { try? $0.optionalString("model_args") }.flatMap(Self.pretrained)
            ?? config.flatMap { try? $0.optionalString("model") } ?? "unknown model"
        let harness = try fields.optionalString("lm_eval_version").map { "lm-evaluation-harness \($0)" }
            ?? bipRun.map { "bip \($0.bipVersion)" } ?? "lm-evaluation-harness (version not recorded)"
        let source = ImportedRunSource(file: file, model: bipRun?.modelPath ?? model, harness: harness)
        var run = try bipRun ?? foreignRun(fields: fields, config: config, model: model, tasks: imported.map(\.task))
        run.id = nil
        run.source = source
        return try store.write { statements in
            run.id = try statements.insert(run)
            for task in imported {
                for var metric in task.metrics {
                    metric.runID = run.id!
                    try statements.upsert(metric)
                }
                for var sample in task.samples {
                    sample.runID = run.id!
                    try statements.upsert(sample)
                }
                for var window in task.windows {
                    window.runID = run.id!
                    try statements.upsert(window)
                }
            }
            return run
        }
    }

    /// The run record of a file the harness wrote: protocol `lm-eval`, the model as named, no
    /// sha256, options with the tasks and the limit.
    private func foreignRun(fields: Fields, config: Fields?, model: String, tasks: [String]) throws -> EvalRun {
        let formatter = ISO8601DateFormatter()
        let date = try fields.optionalNumber("date").map { Date(timeIntervalSince1970: $0) }
        let seconds = try fields.optionalString("total_evaluation_time_seconds").flatMap(Double.init)
        let limit = try config?.optionalNumber("limit").flatMap { $0 == $0.rounded() ? Int($0) : nil }
        let parameters = try config?.optionalNumber("model_num_parameters").map { Int($0) } ?? 0
        return EvalRun(
            modelPath: model, modelSHA256: "", parameters: parameters, evalProtocol: EvalProtocol.lmEval.rawValue,
            options: EvaluationOptions(tasks: tasks, limit: limit, seqLen: 0, data: "").json,
            bipVersion: BuildInfo.version, bipCommit: BuildInfo.commit, host: ProcessInfo.processInfo.hostName,
            startedAt: formatter.string(from: date ?? Date()),
            finishedAt: date.map { formatter.string(from: $0.addingTimeInterval(seconds ?? 0)) })
    }

    /// `pretrained=NAME` (or `model=`, `path=`) of the harness's model arguments.
    private static func pretrained(_ arguments: String) -> String? {
        for part in arguments.split(separator: ",") {
            for key in ["pretrained=", "model=", "path="] where part.hasPrefix(key) { return String(part.dropFirst(key.count)) }
        }
        return nil
    }

    /// The documents a task's metrics were measured on: `n-samples.<task>.effective`, else the
    /// task's `samples`, else the lines of its samples file.
    private func count(_ task: String, entry: Fields, fields: Fields, samples: Int?) throws -> Int {
        if let effective = try fields.optionalObject("n-samples")?.optionalObject(task)?.optionalNumber("effective") { return Int(effective) }
        if let n = try entry.optionalNumber("samples") { return Int(n) }
        if let samples { return samples }
        throw DataError(file: fields.file, field: "n-samples.\(task)", problem: "missing: no count of the task's documents")
    }

    /// A task's metrics: every `METRIC,FILTER` key with its `METRIC_stderr,FILTER` ("N/A": none);
    /// the filter `none` is dropped from the name, any other is kept (`exact_match,strict-match`).
    /// Their `n` is left 0 for the caller to set.
    static func metrics(_ entry: Fields, task: String) throws -> [TaskMetric] {
        var metrics: [TaskMetric] = []
        for key in entry.object.keys.sorted() where key != "alias" && key != "samples" && !key.contains("_stderr") {
            guard let value = entry.object[key]?.number, entry.object[key]?.string == nil else {
                throw DataError(file: entry.file, field: entry.path + key, problem: "not a number: \(entry.object[key]!.pythonJSON(indent: nil))")
            }
            let parts = key.split(separator: ",", maxSplits: 1).map(String.init)
            let filter = parts.count == 2 ? parts[1] : "none"
            let stderrKey = parts[0] + "_stderr" + (parts.count == 2 ? "," + filter : "")
            var stderr: Double?
            switch entry.object[stderrKey] {
            case nil, .null?, .string("N/A")?: stderr = nil
            case let other?:
                guard let x = other.number, other.string == nil else {
                    throw DataError(file: entry.file, field: entry.path + stderrKey, problem: "not a number or \"N/A\": \(other.pythonJSON(indent: nil))")
                }
                stderr = x
            }
            metrics.append(TaskMetric(runID: 0, task: task, metric: filter == "none" ? parts[0] : key, value: value, stderr: stderr,
                                      n: 0, detail: nil))
        }
        return metrics
    }

    /// The lines of a samples file, each a JSON object with its own integer `doc_id`.
    private static func lines(_ path: String) throws -> [Fields] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, problem: "cannot read") }
        var seen = Set<Int>()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { i, line in
            guard let object = try JSONValue.parse(Data(line.utf8), file: path, line: i + 1).object else {
                throw DataError(file: path, line: i + 1, problem: "not a JSON object")
            }
            let fields = Fields(file: path, line: i + 1, object: object, path: "")
            let id = try fields.int("doc_id")
            guard seen.insert(id).inserted else { throw fields.error("doc_id", "\(id) is on an earlier line too") }
            return fields
        }
    }

    /// A perplexity window of bip's export: `ppl` = [loglikelihood, tokens scored].
    private static func window(_ line: Fields, task: String) throws -> PerplexityWindow {
        guard let pair = line.object["ppl"]?.array, pair.count == 2, let loglikelihood = pair[0].number,
              case .int(let tokens) = pair[1] else {
            throw line.error("ppl", "expected [loglikelihood, tokens]")
        }
        return PerplexityWindow(runID: 0, task: task, windowIndex: try line.int("doc_id"), nllSum: -loglikelihood, tokens: tokens)
    }

    /// The documents of a multiple-choice samples file, or nil when its responses are not
    /// loglikelihoods and `strict` is off (a task bip does not know, such as a generation task).
    static func documents(_ lines: [Fields], task: String, delimiter: String, strict: Bool) throws -> [DocumentSample]? {
        var samples: [DocumentSample] = []
        for line in lines {
            let responses = line.object["filtered_resps"]?.array ?? []
            let loglikelihoods = responses.compactMap { $0.array?.first?.number }
            guard loglikelihoods.count == responses.count, loglikelihoods.count >= 2 else {
                if strict { throw line.error("filtered_resps", "expected one [loglikelihood, is_greedy] per choice") }
                return nil
            }
            let prediction = ZeroShotScoring.argmax(loglikelihoods)
            let acc = try line.optionalNumber("acc")
            let gold: Int
            if let target = line.object["target"], let index = target.number.map(Int.init), target.number == target.number?.rounded() {
                gold = index
            } else if loglikelihoods.count == 2, let acc {
                gold = acc == 1 ? prediction : 1 - prediction
            } else {
                throw line.error("target", "not a choice index, and the gold cannot be told from acc")
            }
            guard loglikelihoods.indices.contains(gold) else { throw line.error("target", "\(gold) is not one of the \(loglikelihoods.count) choices") }
            if let acc, (acc == 1) != (prediction == gold) {
                throw line.error("acc", "\(acc) disagrees with the loglikelihoods (their argmax is \(prediction), the gold \(gold))")
            }
            let choices = try Self.choiceTexts(line, count: loglikelihoods.count, delimiter: delimiter)
            var predictionNorm = choices.map { ZeroShotScoring.argmax(zip(loglikelihoods, $0).map { $0 / Double(PythonString.length($1)) }) }
            if let norm = try line.optionalNumber("acc_norm"), let p = predictionNorm, (norm == 1) != (p == gold) { predictionNorm = nil }
            if line.object["acc_norm"] == nil { predictionNorm = nil }
            let tokens = line.object["bip_continuation_tokens"]?.array?.compactMap { value -> Int? in
                if case .int(let x) = value { x } else { nil }
            } ?? []
            // Each choice's is_greedy, kept only when every choice has one (bip's own export of a
            // sample stored before bip recorded them writes null).
            let flags = responses.compactMap { $0.array?.dropFirst().first?.flag }
            samples.append(DocumentSample(
                runID: 0, task: task, docIndex: try line.int("doc_id"),
                loglikelihoods: String(decoding: try JSONEncoder().encode(loglikelihoods), as: UTF8.self),
                isGreedy: flags.count == responses.count ? String(decoding: try JSONEncoder().encode(flags), as: UTF8.self) : nil,
                continuationTokens: String(decoding: try JSONEncoder().encode(tokens), as: UTF8.self),
                gold: gold, predictionAcc: prediction, predictionAccNorm: predictionNorm))
        }
        return samples
    }

    /// Each choice's text (its request's continuation without the target delimiter), which
    /// `acc_norm` divides by; nil when the line has no arguments.
    private static func choiceTexts(_ line: Fields, count: Int, delimiter: String) throws -> [String]? {
        let continuations: [String]
        switch line.object["arguments"] {
        case .object(let requests)?:
            continuations = try (0..<count).map { i in
                guard let text = requests["gen_args_\(i)"]?.object?["arg_1"]?.string else {
                    throw line.error("arguments.gen_args_\(i).arg_1", "missing")
                }
                return text
            }
        case .array(let requests)?:
            continuations = try requests.enumerated().map { i, request in
                guard let text = request.array?.dropFirst().first?.string else { throw line.error("arguments[\(i)]", "expected [context, continuation]") }
                return text
            }
        default: return nil
        }
        guard continuations.count == count else { throw line.error("arguments", "\(continuations.count) requests for \(count) responses") }
        return continuations.map { $0.hasPrefix(delimiter) ? String($0.dropFirst(delimiter.count)) : $0 }
    }
}

/// A JSON object of a file being imported, with accessors whose errors name the file, the line
/// (of a samples file) and the field's path.
struct Fields {
    let file: String
    var line: Int?
    let object: [String: JSONValue]
    /// The path of this object in the file, such as `results.boolq.`.
    let path: String

    init(file: String, line: Int? = nil, object: [String: JSONValue], path: String) {
        (self.file, self.line, self.object, self.path) = (file, line, object, path)
    }

    func error(_ key: String, _ problem: String) -> DataError { DataError(file: file, line: line, field: path + key, problem: problem) }

    func object(_ key: String) throws -> Fields {
        guard let value = object[key] else { throw error(key, "missing") }
        guard let nested = value.object else { throw error(key, "not an object") }
        return Fields(file: file, line: line, object: nested, path: path + key + ".")
    }

    func optionalObject(_ key: String) throws -> Fields? {
        guard let value = object[key], value != .null else { return nil }
        return try self.object(key)
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard let text = value.string else { throw error(key, "not a string") }
        return text
    }

    func optionalNumber(_ key: String) throws -> Double? {
        guard let value = object[key], value != .null else { return nil }
        guard let number = value.number, value.string == nil else { throw error(key, "not a number") }
        return number
    }

    func int(_ key: String) throws -> Int {
        guard case .int(let x)? = object[key] else { throw error(key, object[key] == nil ? "missing" : "not an integer") }
        return x
    }
}
