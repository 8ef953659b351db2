import Foundation
import GRDB
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// lm-evaluation-harness result files out and in: a tiny-model sweep exported and imported again
/// gives back its stored numbers, its report's reference rows and a gate baseline; a file the
/// harness wrote (hand-made in its layout, with groups, "N/A" standard errors, filters, tasks bip
/// does not know) imports as it says; bad files are errors naming the file and the field.
final class LMEvalFilesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("lmeval")
    }

    static let fixture = TestModel.packageRoot.appendingPathComponent("Tests/HarnessTests/Fixtures/lm-eval")
    static let fixtureResults = fixture.appendingPathComponent("EleutherAI__pythia-160m/results_2024-06-01T12-00-00.123456.json")

    func testRoundTripOfATinyModelSweep() throws {
        let model = try TinyModel.path()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let config = SweepConfig(model: model, methods: ["magnitude-l2"], sparsities: [0.2], tasks: ["wikitext2", "arc_easy", "winogrande"],
                                 limit: 3, benchSeconds: 0.5, benchRounds: 2)
        let store = try ResultStore(path: folder.appendingPathComponent("a.sqlite").path)
        let sweep = try store.plan(name: "s", config: config.json, jobs: config.jobs, at: "2026-01-01T00:00:00Z")
        let probe: ThroughputProbe = { _, against, _, _ in
            ThroughputFigures(tokensPerSecond: 100, againstTokensPerSecond: against == nil ? nil : 100, peakMemoryBytes: 1000)
        }
        let summary = try SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: PrunedModelCache(home: folder),
                                      probe: probe, progress: { _ in }).run()
        XCTAssertEqual(summary.done, 2)
        let jobs = try store.jobs(sweepID: sweep.id!)

        // The harness's layout: one folder per job, the model's sanitized path inside it.
        let out = folder.appendingPathComponent("out")
        let files = try LMEvalExport(store: store).write(sweep: "s", to: out)
        let dense = try XCTUnwrap(try store.run(id: jobs[0].evalRunID!))
        let dateID = LMEvalLayout.dateID(startedAt: dense.startedAt)
        let denseFolder = out.appendingPathComponent("dense").appendingPathComponent(LMEvalLayout.sanitizedModelName(dense.modelPath))
        XCTAssertEqual(Array(files.prefix(4)), ["results_\(dateID).json", "samples_wikitext2_\(dateID).jsonl", "samples_arc_easy_\(dateID).jsonl",
                                                "samples_winogrande_\(dateID).jsonl"].map { denseFolder.appendingPathComponent($0) })
        XCTAssertFalse(LMEvalLayout.sanitizedModelName(dense.modelPath).contains("/"))
        let results = try XCTUnwrap(try JSONValue.parse(Data(contentsOf: files[0]), file: "results").object)
        let arc = try XCTUnwrap(results["results"]?.object?["arc_easy"]?.object)
        let denseMetrics = try store.metrics(runID: dense.id!)
        let denseAcc = try XCTUnwrap(denseMetrics.first { $0.task == "arc_easy" && $0.metric == "acc" })
        XCTAssertEqual(arc["acc,none"], .double(denseAcc.value))
        XCTAssertEqual(arc["acc_stderr,none"], denseAcc.stderr.map(JSONValue.double) ?? .string("N/A"))
        XCTAssertEqual(arc["alias"], .string("arc_easy"))
        XCTAssertEqual(results["results"]?.object?["wikitext2"]?.object?["ppl_stderr,none"], .string("N/A"))
        XCTAssertEqual(results["n-samples"]?.object?["arc_easy"], .object(["original": .int(try ZeroShotTask.load("arc_easy", from: data).documents.count),
                                                                          "effective": .int(3)]))
        XCTAssertEqual(results["config"]?.object?["model_args"], .string("pretrained=\(dense.modelPath)"))
        // A document line: the data file's record, the requests, the loglikelihoods as the harness writes them.
        let line = try XCTUnwrap(try JSONValue.parse(Data(try String(contentsOf: files[2], encoding: .utf8).split(separator: "\n")[0].utf8), file: "samples").object)
        let document = try ZeroShotTask.load("arc_easy", from: data).documents[0]
        let sample = try store.samples(runID: dense.id!, task: "arc_easy")[0]
        let loglikelihoods = try JSONDecoder().decode([Double].self, from: Data(sample.loglikelihoods.utf8))
        XCTAssertEqual(line["target"], .string(String(document.gold)))
        XCTAssertEqual(line["arguments"]?.object?["gen_args_1"], .object(["arg_0": .string(document.context(1)), "arg_1": .string(document.continuation(1))]))
        let greedy = try JSONDecoder().decode([Bool].self, from: Data(try XCTUnwrap(sample.isGreedy).utf8))
        XCTAssertEqual(line["filtered_resps"], .array(zip(loglikelihoods, greedy).map { .array([.string("\($0)"), .string($1 ? "True" : "False")]) }))
        XCTAssertEqual(line["doc"]?.object?["answerKey"]?.string != nil, true)
        XCTAssertEqual(line["prompt_hash"], .string(SHA256.hex(of: Data(document.context(0).utf8))))
        XCTAssertEqual(line["doc_hash"], .string(SHA256.hex(of: Data(line["doc"]!.pythonJSON().utf8))))
        // winogrande's target is the shared continuation, as the harness's doc_to_target gives it.
        let wino = try ZeroShotTask.load("winogrande", from: data).documents[0]
        let winoLine = try JSONValue.parse(Data(try String(contentsOf: files[3], encoding: .utf8).split(separator: "\n")[0].utf8), file: "samples")
        XCTAssertEqual(winoLine.object?["target"], .string(String(wino.continuations[0].dropFirst())))

        // Into a new store: the same metrics, answers and windows as stored by the sweep.
        let fresh = try ResultStore(path: folder.appendingPathComponent("b.sqlite").path)
        let imported = try LMEvalImport(store: fresh).run(out.path)
        XCTAssertEqual(imported.count, 2)
        for (job, run) in zip(jobs, imported) {
            let original = try XCTUnwrap(try store.run(id: job.evalRunID!))
            var copy = run
            (copy.id, copy.source) = (original.id, nil)
            XCTAssertEqual(copy, original)
            XCTAssertEqual(run.source?.harness, "bip \(BuildInfo.version)")
            XCTAssertEqual(run.source?.model, original.modelPath)
            XCTAssertEqual(try fresh.metrics(runID: run.id!).map { [$0.task, $0.metric, "\($0.value)", "\($0.stderr.map { "\($0)" } ?? "-")", "\($0.n)"] },
                           try store.metrics(runID: original.id!).map { [$0.task, $0.metric, "\($0.value)", "\($0.stderr.map { "\($0)" } ?? "-")", "\($0.n)"] })
            for task in ["arc_easy", "winogrande"] {
                XCTAssertEqual(try fresh.samples(runID: run.id!, task: task).map { var s = $0; s.runID = 0; return s },
                               try store.samples(runID: original.id!, task: task).map { var s = $0; s.runID = 0; return s }, task)
            }
            XCTAssertEqual(try fresh.windows(runID: run.id!, task: "wikitext2").map { var w = $0; w.runID = 0; return w },
                           try store.windows(runID: original.id!, task: "wikitext2").map { var w = $0; w.runID = 0; return w })
        }

        // Into the sweep's own store: the report shows each beside the sweep's rows, with the same numbers.
        let current = try store.newestResults()
        let references = try LMEvalImport(store: store).run(out.path)
        XCTAssertEqual(try store.newestResults(), current, "imported runs are not current results")
        try ReportWriter(store: store, sweepName: "s").write(to: folder.appendingPathComponent("report"))
        let report = try String(contentsOf: folder.appendingPathComponent("report/report.md"), encoding: .utf8)
        func valueCells(_ prefix: String) throws -> [String] {
            let row = try XCTUnwrap(report.split(separator: "\n").first { $0.hasPrefix(prefix) }, prefix)
            // The values without the marks of the paired tests, which only the sweep's rows get.
            return Array(row.split(separator: "|").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " *†‡§")) }.dropFirst(4))
        }
        XCTAssertEqual(try valueCells("| reference 1 |"), try valueCells("| dense |"))
        XCTAssertEqual(try valueCells("| reference 2 |"), try valueCells("| magnitude-l2 |"))
        XCTAssertTrue(report.contains("- reference 1: run \(references[0].id!), \(dense.modelPath) (bip \(BuildInfo.version), "), report)
        // results.csv: the imported runs' rows after the sweep's, with the numbers of the runs they were exported from.
        let csv = try String(contentsOf: folder.appendingPathComponent("report/results.csv"), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        func csvValues(method: String) -> [String] {
            csv.filter { $0[3] == method && $0[6] != "efficiency" }.map { "\($0[6]) \($0[7]) \($0[8]) \($0[9]) \($0[10])" }.sorted()
        }
        XCTAssertEqual(csvValues(method: "reference 1"), csvValues(method: "dense"))
        XCTAssertEqual(csvValues(method: "reference 2"), csvValues(method: "magnitude-l2"))
        XCTAssertFalse(csvValues(method: "reference 1").isEmpty)
        let referenceRow = try XCTUnwrap(csv.first { $0[3] == "reference 1" })
        XCTAssertEqual(referenceRow[1], String(references[0].id!))
        XCTAssertEqual(referenceRow[2], dense.modelPath)
        // The source, quoted for its comma: `MODEL (HARNESS, FILE)`.
        XCTAssertTrue(referenceRow[16].hasPrefix("\"\(dense.modelPath) (bip \(BuildInfo.version)"), "\(referenceRow)")

        // The gate against an imported run: the same numbers pass, with the paired tests at hand.
        let baseline = try store.importedBaseline(runID: references[0].id!, for: current)
        XCTAssertEqual(baseline.entries.count, denseMetrics.count)
        let (checks, _) = RegressionGate().compare(baseline, with: current, windows: { try? store.windows(runID: $0, task: $1) })
        XCTAssertEqual(checks.map(\.verdict), Array(repeating: .ok, count: denseMetrics.count))
        XCTAssertTrue(checks.allSatisfy { $0.pValue != nil }, "\(checks)")
        XCTAssertEqual(checks.map(\.key.method), Array(repeating: "dense", count: denseMetrics.count))
        XCTAssertThrowsError(try store.importedBaseline(runID: dense.id!, for: current))
    }

    /// A sample stored before bip recorded greedy flags (a database of schema v8) opens with none
    /// and is exported with `null` for each choice's is_greedy, which reads back as unknown.
    func testASampleStoredBeforeGreedyFlagsIsExportedWithNull() throws {
        let path = folder.appendingPathComponent("v8.sqlite").path
        do {
            let queue = try DatabaseQueue(path: path)
            try ResultStore.migrator.migrate(queue, upTo: "v8: units of sweep jobs")
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO eval_run (id, model_path, model_sha256, parameters, protocol, options, bip_version, host, started_at)
                    VALUES (1, 'm', 'abc', 10, 'llm-pruner', '{}', '0.1.0', 'h', 't')
                    """)
                try db.execute(sql: """
                    INSERT INTO document_sample (run_id, task, doc_index, loglikelihoods, continuation_tokens, gold, prediction_acc)
                    VALUES (1, 'boolq', 0, '[-1.5,-0.25]', '[1,1]', 1, 1)
                    """)
            }
        }
        let sample = try XCTUnwrap(try ResultStore(path: path).samples(runID: 1, task: "boolq").first)
        XCTAssertNil(sample.isGreedy)
        XCTAssertNil(try sample.sample().isGreedy)
        let line = try LMEvalExport.documentLine(sample, task: "boolq", documents: nil, metrics: ["acc"])
        XCTAssertEqual(line.object?["filtered_resps"], .array([.array([.string("-1.5"), .null]), .array([.string("-0.25"), .null])]))
        let read = try LMEvalImport.documents([Fields(file: "f", line: 1, object: try XCTUnwrap(line.object), path: "")],
                                              task: "boolq", delimiter: " ", strict: true)
        XCTAssertNil(read?.first?.isGreedy)
    }

    func testAHarnessFileWithItsQuirks() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        var notes: [String] = []
        var importer = LMEvalImport(store: store)
        importer.note = { notes.append($0) }
        let runs = try importer.run(Self.fixture.path)
        XCTAssertEqual(runs.count, 1)
        let run = runs[0]
        XCTAssertEqual(run.source, ImportedRunSource(file: Self.fixtureResults.path, model: "EleutherAI/pythia-160m", harness: "lm-evaluation-harness 0.4.9"))
        XCTAssertEqual(run.modelPath, "EleutherAI/pythia-160m")
        XCTAssertEqual(run.evalProtocol, "lm-eval")
        XCTAssertEqual(run.parameters, 162_322_944)
        XCTAssertEqual(run.startedAt, "2024-06-01T12:00:00Z")
        XCTAssertEqual(run.finishedAt, "2024-06-01T12:02:03Z")
        let options = try JSONDecoder().decode(EvaluationOptions.self, from: Data(run.options.utf8))
        XCTAssertEqual(options.tasks, ["arc_easy", "gsm8k", "mmlu_abstract_algebra", "wikitext"])
        XCTAssertEqual(options.limit, 3)

        // The group `mmlu` is left out, its subtask kept; ",none" is dropped, other filters kept; "N/A" is no stderr.
        let metrics = try store.metrics(runID: run.id!).map { "\($0.task) \($0.metric) \($0.value) \($0.stderr.map { "\($0)" } ?? "-") \($0.n)" }
        XCTAssertEqual(metrics, [
            "arc_easy acc 0.3333333333333333 0.3333333333333333 3",
            "arc_easy acc_norm 0.6666666666666666 0.3333333333333333 3",
            "gsm8k exact_match,flexible-extract 1.0 - 1",
            "gsm8k exact_match,strict-match 0.0 0.0 1",
            "mmlu_abstract_algebra acc 0.3333333333333333 0.33333333333333337 3",
            "wikitext bits_per_byte 0.6791508813498497 - 3",
            "wikitext byte_perplexity 1.6011867456312465 - 3", // the file's 1.6011867456312466, the same Double
            "wikitext word_perplexity 37.41379155580208 - 3",
        ])
        // arc_easy's answers from the loglikelihoods (acc_norm by the choices' lengths); gsm8k generates, so has none.
        let samples = try store.samples(runID: run.id!, task: "arc_easy")
        XCTAssertEqual(samples.map(\.docIndex), [0, 1, 2])
        XCTAssertEqual(samples.map(\.gold), [1, 1, 3])
        XCTAssertEqual(samples.map(\.predictionAcc), [1, 3, 0])
        XCTAssertEqual(samples.map(\.predictionAccNorm), [1, 0, 3])
        XCTAssertEqual(samples[0].loglikelihoods, "[-31.5,-20.25,-29,-33.75]")
        XCTAssertEqual(samples.map(\.isGreedy), ["[false,false,false,false]", "[false,false,false,true]", "[false,false,false,false]"])
        XCTAssertEqual(samples[0].continuationTokens, "[]")
        XCTAssertEqual(try store.samples(runID: run.id!, task: "gsm8k"), [])
        XCTAssertEqual(notes.count, 2, "\(notes)")
        XCTAssertTrue(notes.contains { $0.contains("mmlu is a group") }, "\(notes)")
        XCTAssertTrue(notes.contains { $0.contains("samples_gsm8k_2024-06-01T12-00-00.123456.jsonl: not imported") }, "\(notes)")
    }

    /// `doc_hash` is the sha256 of `json.dumps(doc, indent=2, ensure_ascii=False)`; these are
    /// Python's hashes of the same values (keys sorted).
    func testPythonJSONOfADocument() throws {
        let line = try String(contentsOf: Self.fixture.appendingPathComponent("EleutherAI__pythia-160m/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl"),
                              encoding: .utf8).split(separator: "\n")[0]
        let doc = try XCTUnwrap(try JSONValue.parse(Data(line.utf8), file: "line").object?["doc"])
        XCTAssertEqual(SHA256.hex(of: Data(doc.pythonJSON().utf8)), "0914ca2e3071ad2085e7962d26808ae208897cfcc50e857ce77da1869be1989a")
        let odd = JSONValue.object(["z": .array([.int(1), .double(2.5), .null, .bool(true), .object([:])]),
                                    "a": .string("café \"q\" \\ \n\t\u{01}"), "m": .array([])])
        XCTAssertEqual(odd.pythonJSON(), "{\n  \"a\": \"café \\\"q\\\" \\\\ \\n\\t\\u0001\",\n  \"m\": [],\n  \"z\": [\n    1,\n    2.5,\n    null,\n    true,\n    {}\n  ]\n}")
        XCTAssertEqual(SHA256.hex(of: Data(odd.pythonJSON().utf8)), "6632bff0564815747e5102a4c9205fccad9e999144069b88571fd741ee308874")
        // A samples line: json.dumps(value, ensure_ascii=False), one line.
        XCTAssertEqual(odd.pythonJSON(indent: nil), #"{"a": "café \"q\" \\ \n\t\u0001", "m": [], "z": [1, 2.5, null, true, {}]}"#)
    }

    /// A copy of the fixture with its results file and its arc_easy samples changed by `edit`.
    func brokenCopy(results: (inout [String: JSONValue]) -> Void = { _ in }, samples: (inout [String]) -> Void = { _ in }) throws -> URL {
        let copy = folder.appendingPathComponent("broken-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.fixture, to: copy)
        let resultsURL = copy.appendingPathComponent("EleutherAI__pythia-160m/results_2024-06-01T12-00-00.123456.json")
        var object = try XCTUnwrap(try JSONValue.parse(Data(contentsOf: resultsURL), file: "").object)
        results(&object)
        try Data(JSONValue.object(object).pythonJSON().utf8).write(to: resultsURL)
        let samplesURL = copy.appendingPathComponent("EleutherAI__pythia-160m/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl")
        var lines = try String(contentsOf: samplesURL, encoding: .utf8).split(separator: "\n").map(String.init)
        samples(&lines)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: samplesURL)
        return copy
    }

    func importError(_ path: URL, _ store: ResultStore) -> DataError? {
        do {
            _ = try LMEvalImport(store: store).run(path.path)
            XCTFail("imported \(path.path)")
            return nil
        } catch {
            XCTAssertTrue(error is DataError, "\(error)")
            return error as? DataError
        }
    }

    func testBadFilesAreErrorsNamingTheFileAndTheField() throws {
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        func arcResults(_ edit: @escaping (inout [String: JSONValue]) -> Void) -> (inout [String: JSONValue]) -> Void {
            { object in
                var results = object["results"]!.object!
                var arc = results["arc_easy"]!.object!
                edit(&arc)
                results["arc_easy"] = .object(arc)
                object["results"] = .object(results)
            }
        }
        let results = "EleutherAI__pythia-160m/results_2024-06-01T12-00-00.123456.json"
        let samples = "EleutherAI__pythia-160m/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl"
        let cases: [(URL, String, Int?, String?, String)] = [
            (try brokenCopy(results: { $0["results"] = nil }), results, nil, "results", "missing"),
            (try brokenCopy(results: { $0["results"] = .array([]) }), results, nil, "results", "not an object"),
            (try brokenCopy(results: arcResults { $0["acc,none"] = .string("high") }), results, nil, "results.arc_easy.acc,none", "not a number: \"high\""),
            (try brokenCopy(results: arcResults { $0["acc_stderr,none"] = .array([]) }), results, nil, "results.arc_easy.acc_stderr,none", "not a number or \"N/A\": []"),
            (try brokenCopy(results: { $0["config"] = .object(["limit": .string("all")]) }), results, nil, "config.limit", "not a number"),
            (try brokenCopy(samples: { $0[1] = "{\"doc_id\": 1," }), samples, 2, nil, "not JSON: expected a string at byte 13"),
            (try brokenCopy(samples: { $0[1] = "[1]" }), samples, 2, nil, "not a JSON object"),
            (try brokenCopy(samples: { $0[2] = $0[2].replacingOccurrences(of: "\"doc_id\": 2", with: "\"doc_id\": 0") }), samples, 3, "doc_id",
             "0 is on an earlier line too"),
            (try brokenCopy(samples: { $0[2] = $0[2].replacingOccurrences(of: "\"acc\": 0.0", with: "\"acc\": 1.0") }), samples, 3, "acc",
             "1.0 disagrees with the loglikelihoods (their argmax is 0, the gold 3)"),
            (try brokenCopy(samples: { $0[0] = $0[0].replacingOccurrences(of: "[\"-31.5\", \"False\"]", with: "\"yes\"") }), samples, 1, "filtered_resps",
             "expected one [loglikelihood, is_greedy] per choice"),
            (try brokenCopy(samples: { $0[0] = $0[0].replacingOccurrences(of: "\"target\": \"1\"", with: "\"target\": \"7\"") }), samples, 1, "target",
             "7 is not one of the 4 choices"),
        ]
        for (copy, file, line, field, problem) in cases {
            let error = importError(copy, store)
            XCTAssertEqual(error, DataError(file: copy.appendingPathComponent(file).path, line: line, field: field, problem: problem))
        }
        let notJSON = folder.appendingPathComponent("results_2024-01-01T00-00-00.json")
        try Data("{\"results\": ".utf8).write(to: notJSON)
        XCTAssertEqual(importError(notJSON, store), DataError(file: notJSON.path, problem: "not JSON: expected a value at byte 12"))
        try Data("[]".utf8).write(to: notJSON)
        XCTAssertEqual(importError(notJSON, store), DataError(file: notJSON.path, problem: "not a JSON object (an lm-evaluation-harness results file)"))
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertEqual(importError(empty, store), DataError(file: empty.path, problem: "holds no results_<date>.json file"))
        XCTAssertEqual(try store.runs(), [], "nothing is stored from a bad file")
    }
}
