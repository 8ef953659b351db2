import BIP
import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// Explicit job variants and the document limit of a sweep: the plan of
/// `reports/smollm2-135m-full/sweep.json`, validation, the command line, and a sweep on the tiny
/// model whose jobs evaluate different tasks, with every window and the first documents.
final class SweepVariantTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("variants")
    }

    /// The full comparison: 46 jobs, each once; the ablation's own jobs evaluate WikiText2 only,
    /// a job the ablation shares with the comparison evaluates every task.
    func testTheFullComparisonPlan() throws {
        let config = try SweepConfig.load(TestModel.packageRoot.appendingPathComponent("reports/smollm2-135m-full/sweep.json").path)
        XCTAssertEqual(config.documentLimit, 500)
        XCTAssertNil(config.limit)
        XCTAssertEqual(config.tasks, TaskCatalog.names)
        let at = { (labels: [String], sparsities: [Double]) in
            labels.flatMap { label in sparsities.map { String(format: "%@ @ %.2f seed 0", label, $0) } }
        }
        let all = [0.1, 0.2, 0.3, 0.5]
        let comparison = ["dense"]
            + at(["bip", "bip (global)", "bip (global-raw)", "flap", "wanda-sp", "llm-pruner-element1", "bip (sequential)"], all)
            + at(["bip w/ tune", "flap w/ tune", "wanda-sp w/ tune", "llm-pruner-element1 w/ tune"], [0.2, 0.5])
        let ablation = at(["bip (bias on)", "bip (sequential, bias on)", "wanda-sp (one-shot)", "wanda-sp (one-shot, bias on)",
                           "wanda-sp (bias on)", "flap (uniform, bias off)", "flap (uniform)", "flap (uniform, sequential, bias off)",
                           "flap (uniform, sequential)"], [0.2])
        XCTAssertEqual(config.jobs.count, 46)
        XCTAssertEqual(config.jobs.map(\.label), comparison + ablation)
        for spec in config.jobs {
            XCTAssertEqual(config.tasks(of: spec), ablation.contains(spec.label) ? ["wikitext2"] : TaskCatalog.names, spec.label)
        }
        XCTAssertEqual(config.tune?.heldOut, 16)
        XCTAssertEqual(config.tune?.options.maxSteps, 12)
        // The tune recipe of reports/smollm2-135m-tune-0.2-0.4.
        let earlier = try SweepConfig.load(TestModel.packageRoot.appendingPathComponent("reports/smollm2-135m-tune-0.2-0.4/sweep.json").path)
        XCTAssertEqual(config.tune, earlier.tune)
        // The command line of the report plans the same sweep (the tune recipe's finer settings by --tune-recipe).
        var applied = SweepConfig(model: "smollm2-135m", methods: [], sparsities: [], tasks: TaskCatalog.names)
        for part in SweepCommandLine.text(config, name: "full").components(separatedBy: " \\\n    ").dropFirst().dropLast() {
            let words = part.split(separator: " ", maxSplits: 1).map(String.init)
            let option = try XCTUnwrap(SweepOption.all.first { "--\($0.flag)" == words[0] }, part)
            let value = words.count > 1 ? words[1] : ""
            try option.apply(value.hasPrefix("'") ? String(value.dropFirst().dropLast()) : value, to: &applied)
        }
        XCTAssertEqual(applied.variants, config.variants)
        XCTAssertEqual(applied.documentLimit, 500)
        XCTAssertEqual(applied.jobs, config.jobs)
        XCTAssertEqual(applied, config)
    }

    /// A configuration without variants keeps its JSON (so its default name) and its plan.
    func testConfigurationsWithoutVariantsAreUnchanged() throws {
        let config = try SweepConfig.load(TestModel.packageRoot.appendingPathComponent("reports/ci-sweep.json").path)
        XCTAssertEqual(config.json, #"{"bench_rounds":1,"bench_seconds":1,"calibration":"c4:32x128","limit":20,"methods":["bip","wanda-sp"],"#
                       + #""model":"smollm2-135m","protocol":"llm-pruner","seeds":[0],"seq_len":128,"sparsities":[0.2],"#
                       + #""tasks":["wikitext2","ptb","arc_easy","piqa","winogrande"]}"#)
        XCTAssertEqual(config.defaultName, "sweep-85cd39d045")
        XCTAssertEqual(config.jobs.map(\.label), ["dense", "bip @ 0.20 seed 0", "wanda-sp @ 0.20 seed 0"])
        XCTAssertTrue(config.jobs.allSatisfy { config.tasks(of: $0) == config.tasks })
    }

    func testImpossibleVariantsSayWhy() {
        func problem(_ variant: SweepVariant, limit: Int? = nil, tune: SweepTune? = nil) -> String {
            let config = SweepConfig(model: "m", methods: [], sparsities: [], tasks: ["wikitext2", "piqa"], limit: limit, tune: tune,
                                     documentLimit: 5, variants: [variant])
            do {
                try config.validate()
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertEqual(problem(SweepVariant(method: "bip", sparsities: [0.2], tune: true, tasks: ["piqa"]), tune: SweepTune()), "")
        XCTAssertTrue(problem(SweepVariant(method: "bip", sparsities: [0.2], tune: true)).contains("no tune recipe"))
        XCTAssertTrue(problem(SweepVariant(method: "bip", sparsities: [0.2], tasks: ["boolq"])).contains("of the sweep's tasks (wikitext2, piqa)"))
        XCTAssertTrue(problem(SweepVariant(method: "flap", sparsities: [0.2], statistics: .sequential)).contains("sequential statistics need --allocation uniform"))
        XCTAssertTrue(problem(SweepVariant(method: "bip", sparsities: [])).contains("sparsities must be"))
        XCTAssertTrue(problem(SweepVariant(method: "bip", sparsities: [0.2]), limit: 3).contains("not both"))
        XCTAssertThrowsError(try SweepConfig(model: "m", methods: [], sparsities: [], tasks: ["piqa"]).validate()) {
            XCTAssertTrue("\($0)".contains("no methods given"), "\($0)")
        }
        XCTAssertThrowsError(try SweepConfig(model: "m", methods: [], sparsities: [], tasks: ["piqa"], allocations: [.global],
                                             variants: [SweepVariant(method: "bip", sparsities: [0.2])]).validate()) {
            XCTAssertTrue("\($0)".contains("axes of the methods"), "\($0)")
        }
    }

    /// On the tiny model: a variant with its own tasks and its tune, the first 2 documents of each
    /// zero-shot task; the run's options, the gate's keys and the report's partial rows.
    /// (Every window of a corpus is too slow here: `testLimitsOfDocumentsAndWindows`.)
    func testVariantsWithTheirTasksTuneAndTheDocumentLimit() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        var tune = SweepTune(data: "c4", heldOut: 4)
        (tune.options.maxSteps, tune.options.batch, tune.options.microBatch, tune.options.cutoff, tune.options.warmupSteps) = (2, 2, 1, 32, 1)
        let config = SweepConfig(model: try TinyModel.path(), methods: [], sparsities: [], tasks: ["piqa", "arc_easy"],
                                 calibration: "c4:4x64", benchSeconds: 0, tune: tune, documentLimit: 2, variants: [
                                    SweepVariant(method: "magnitude-l2", sparsities: [0.2]),
                                    SweepVariant(method: "magnitude-l2", sparsities: [0.3], tune: true, tasks: ["arc_easy"]),
                                 ])
        try config.validate()
        XCTAssertEqual(config.jobs.map(\.label), ["dense", "magnitude-l2 @ 0.20 seed 0", "magnitude-l2 @ 0.30 seed 0", "magnitude-l2 w/ tune @ 0.30 seed 0"])
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let sweep = try store.plan(name: "v", config: config.json, jobs: config.jobs, at: "t")
        var messages: [String] = []
        let summary = try SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: PrunedModelCache(home: folder),
                                      probe: nil, progress: { messages.append($0) }).run()
        XCTAssertEqual(summary, SweepWorker.Summary(done: 4, failed: 0, tasksRun: 6), messages.joined(separator: "\n"))

        let jobs = try store.jobs(sweepID: sweep.id!)
        for job in jobs {
            let runID = try XCTUnwrap(job.evalRunID)
            let metrics = try store.metrics(runID: runID)
            let options = try JSONDecoder().decode(EvaluationOptions.self, from: Data(try XCTUnwrap(try store.run(id: runID)).options.utf8))
            XCTAssertEqual(options.documentLimit, 2)
            XCTAssertNil(options.limit)
            let tasks = job.sparsity == 0.3 ? ["arc_easy"] : ["piqa", "arc_easy"]
            XCTAssertEqual(options.tasks, tasks)
            XCTAssertEqual(Set(metrics.map(\.task)), Set(tasks), job.spec.label)
            XCTAssertTrue(metrics.allSatisfy { $0.n == 2 }, "the first 2 documents")
        }
        let dense = try XCTUnwrap(try store.run(id: jobs[0].evalRunID!)).options
        XCTAssertTrue(dense.contains(#""document_limit":2,"#) && dense.contains(#""limit":null,"#), dense)

        let gate = try store.newestResults(sweep: "v")
        XCTAssertTrue(gate.allSatisfy { $0.key.documentLimit == 2 && $0.key.limit == nil })
        XCTAssertTrue(gate.contains { $0.key.label == "magnitude-l2 w/ tune @ 0.30 seed 0 arc_easy acc (documents 2)" }, "\(gate.map(\.key.label))")

        let results = try SweepResults.load(store, sweepName: "v")
        let report = MarkdownReport(results: results, plots: []).text
        XCTAssertTrue(report.contains("Evaluated on the first 2 documents of each zero-shot task and every window of each perplexity corpus;"), report)
        XCTAssertTrue(report.contains("--document-limit 2"), report)
        XCTAssertTrue(report.contains("--variants '[{\"method\":\"magnitude-l2\""), report)
        for row in results.rows {
            XCTAssertEqual(results.average(row, metric: SweepResults.paperMetric) == nil, row.sparsity == 0.3, row.method)
            let line = try XCTUnwrap(report.split(separator: "\n").first { $0.hasPrefix("| \(row.method) | \(row.isDense ? "0" : String(format: "%.2f", row.sparsity)) | ") })
            XCTAssertEqual(line.hasSuffix(" | - |"), row.sparsity == 0.3, String(line))
        }
        XCTAssertNoThrow(try ReportWriter(store: store, sweepName: "v").write(to: folder.appendingPathComponent("out")))
    }

    /// `limit` cuts documents and windows, `document_limit` documents only; `bip eval --limit`
    /// sets both of `TaskEvaluation`'s limits.
    func testLimitsOfDocumentsAndWindows() throws {
        var config = SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["wikitext2", "piqa"], limit: 40)
        XCTAssertEqual([config.documentsEvaluated, config.windowsEvaluated], [40, 40])
        (config.limit, config.documentLimit) = (nil, 500)
        XCTAssertEqual([config.documentsEvaluated, config.windowsEvaluated], [500, nil])
        XCTAssertTrue(config.json.contains(#""document_limit":500"#))
        XCTAssertEqual(try JSONDecoder().decode(SweepConfig.self, from: Data(config.json.utf8)), config)

        let loaded = try TinyModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: DataDirectory(url: try TestModel.dataDirectory()))
        (evaluation.documentLimit, evaluation.windowLimit) = (3, 2)
        XCTAssertEqual(try evaluation.run("piqa").metrics.map(\.n), [3, 3])
        XCTAssertEqual(try evaluation.run("wikitext2").windows.count, 2)

        // Options and gate keys carry the document limit only when it is set.
        let plain = EvaluationOptions(tasks: ["piqa"], limit: 4, seqLen: 128, data: "/d")
        XCTAssertEqual(plain.json, #"{"data":"\/d","limit":4,"seq_len":128,"tasks":["piqa"]}"#)
        let documents = EvaluationOptions(tasks: ["piqa"], limit: nil, documentLimit: 500, seqLen: 128, data: "/d")
        XCTAssertEqual(documents.json, #"{"data":"\/d","document_limit":500,"limit":null,"seq_len":128,"tasks":["piqa"]}"#)
        XCTAssertEqual(try JSONDecoder().decode(EvaluationOptions.self, from: Data(documents.json.utf8)), documents)
        let key = ResultKey(modelSHA256: "s", method: "dense", sparsity: 0, seed: 0, evalProtocol: "llm-pruner", limit: nil, task: "piqa", metric: "acc")
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(key), as: UTF8.self).contains("document"))
    }
}
