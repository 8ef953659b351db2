import BIP
import Foundation
@testable import Harness
import Runtime
import Tasks
import TestSupport
import XCTest

/// The pruning axes of a sweep (allocations, statistics, bias compensation, layers): the jobs
/// they plan, the store, the labels of the report and the gate, and the pruned-model cache.
final class SweepAxesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("axes")
    }

    /// Every combination that applies to a method is a job, shown with its departures from the
    /// method's paper setting; sequential statistics with a global allocation give no job.
    func testAxesPlanTheCombinationsThatApply() throws {
        let config = SweepConfig(model: "m", methods: ["bip", "wanda-sp", "flap"], sparsities: [0.2], tasks: ["wikitext2"],
                                 allocations: [.uniform, .global], statistics: [.oneShot, .sequential])
        try config.validate()
        XCTAssertEqual(config.jobs.map(\.methodLabel), [
            "dense",
            "bip", "bip (sequential)", "bip (global)",
            "wanda-sp (one-shot)", "wanda-sp", "wanda-sp (global, one-shot)",
            "flap (uniform)", "flap (uniform, sequential)", "flap",
        ])
        XCTAssertEqual(SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["wikitext2"]).jobs.map(\.pruning),
                       [PruningOverrides(), PruningOverrides()], "no axes: the paper setting, one job")
        let layered = SweepConfig(model: "m", methods: ["magnitude-l1"], sparsities: [0.2], tasks: ["wikitext2"],
                                  allocations: [.globalRaw], layers: [.all, .range(2..<28)])
        XCTAssertEqual(layered.jobs.map(\.methodLabel),
                       ["dense", "magnitude-l1 (global-raw, layers all)", "magnitude-l1 (global-raw, layers 2..<28)"])

        // Statistics for a method that reads none, or only refused combinations: no job at all.
        for bad in [SweepConfig(model: "m", methods: ["bip", "magnitude-l1"], sparsities: [0.2], tasks: ["wikitext2"], statistics: [.sequential]),
                    SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["wikitext2"], allocations: [.global], statistics: [.sequential])] {
            XCTAssertThrowsError(try bad.validate()) {
                XCTAssertTrue("\($0)".contains("give \(bad.methods.last!) no job"), "\($0)")
            }
        }
        // A configuration file names the axes by their JSON keys; without them its JSON (and so
        // its default name) is what it was.
        let file = folder.appendingPathComponent("axes.json")
        try #"{"methods": ["bip"], "sparsities": [0.2], "allocations": ["global-raw"], "statistics": ["sequential"], "bias_compensation": [true, false], "layers": ["2..<28"]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepConfig.load(file.path)) { XCTAssertTrue("\($0)".contains("sequential statistics need --allocation uniform"), "\($0)") }
        try #"{"methods": ["bip"], "sparsities": [0.2], "allocations": ["global-raw"], "bias_compensation": [true, false], "layers": ["2..<28"]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let loaded = try SweepConfig.load(file.path)
        XCTAssertEqual(loaded.jobs.map(\.methodLabel), ["dense", "bip (global-raw, bias on, layers 2..<28)", "bip (global-raw, layers 2..<28)"])
        XCTAssertEqual(try JSONDecoder().decode(SweepConfig.self, from: Data(loaded.json.utf8)), loaded)
        XCTAssertFalse(SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["wikitext2"]).json.contains("allocations"))
    }

    /// A paper-setting job keeps the cache key it always had; a departure changes it.
    func testCacheKeyOfThePaperSettingIsUnchanged() {
        let recipe = PrunedModelCache.Recipe(sourceSHA256: "abc", method: "bip", sparsity: 0.2, seed: 0, calibration: "c4:32x128")
        let today = String(SHA256.hex(of: Data("bip \(BuildInfo.version)|abc|bip|0.2|0|c4:32x128".utf8)).prefix(16))
        XCTAssertEqual(recipe.key, today)
        let sequential = PrunedModelCache.Recipe(sourceSHA256: "abc", method: "bip", sparsity: 0.2, seed: 0, calibration: "c4:32x128",
                                                 pruning: PruningOverrides(statistics: .sequential))
        XCTAssertNotEqual(sequential.key, today)
        // A tuned model's key, from the text its keys have always had.
        let tune = SweepTune(data: "c4", heldOut: 16)
        let tuned = PrunedModelCache.Recipe(sourceSHA256: "abc", method: "bip", sparsity: 0.2, seed: 0, calibration: "c4:32x128", tune: tune)
        XCTAssertEqual(tuned.key, String(SHA256.hex(of: Data("bip \(BuildInfo.version)|abc|bip w/ tune|0.2|0|c4:32x128|\(tune.json)".utf8)).prefix(16)))
    }

    /// A sweep over statistics × bias compensation on the tiny model: the store keeps each job's
    /// setting, the report and the gate label them, the CSV has them as columns, and a second
    /// sweep finds every pruned model in the cache.
    func testSweepStoresReportsAndCachesTheSettings() throws {
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let config = SweepConfig(model: try TinyModel.path(), methods: ["bip"], sparsities: [0.2], tasks: ["arc_easy"], limit: 2,
                                 calibration: "c4:4x64", benchSeconds: 0.5, statistics: [.oneShot, .sequential],
                                 biasCompensation: [false, true])
        try config.validate()
        let store = try ResultStore(path: folder.appendingPathComponent("r.sqlite").path)
        let probe: ThroughputProbe = { _, against, _, _ in
            ThroughputFigures(tokensPerSecond: 100, againstTokensPerSecond: against == nil ? nil : 100, peakMemoryBytes: 1)
        }
        let cache = PrunedModelCache(home: folder)
        var messages: [String] = []
        for name in ["first", "second"] {
            let sweep = try store.plan(name: name, config: config.json, jobs: config.jobs, at: "t")
            let summary = try SweepWorker(store: store, sweep: sweep, config: config, data: data, cache: cache, probe: probe,
                                          progress: { messages.append($0) }).run()
            XCTAssertEqual(summary.failed, 0, messages.joined(separator: "\n"))
        }
        let labels = ["dense", "bip", "bip (bias on)", "bip (sequential)", "bip (sequential, bias on)"]
        let jobs = try store.jobs(sweepID: try XCTUnwrap(try store.sweep(named: "first")).id!)
        XCTAssertEqual(jobs.map(\.methodLabel), labels)
        XCTAssertEqual(jobs.map(\.statistics), [nil, nil, nil, .sequential, .sequential])
        XCTAssertEqual(jobs.map(\.biasCompensation), [nil, nil, true, nil, true])
        XCTAssertEqual(Set(jobs.compactMap(\.modelPath)).count, 5, "each setting its own model")
        let second = messages.drop { !$0.hasPrefix("sweep second") }
        XCTAssertEqual(second.filter { $0.contains("pruned model cached") }.count, 4, second.joined(separator: "\n"))

        let results = try SweepResults.load(store, sweepName: "first")
        XCTAssertEqual(results.rows.map(\.method), labels)
        XCTAssertTrue(MarkdownReport(results: results, plots: []).text.contains("| bip (sequential, bias on) |"))
        let csv = ResultsCSV.text(results).split(separator: "\n")
        XCTAssertTrue(csv.contains { $0.hasPrefix("first,") && $0.contains(",bip,0.2,0,arc_easy,acc,") && $0.hasSuffix(",sequential,on,,,") }, "\(csv)")

        let gate = try store.newestResults(sweep: "first").filter { $0.key.metric == "acc" }
        XCTAssertEqual(gate.map(\.key.pruning), [nil, PruningOverrides(biasCompensation: true), PruningOverrides(statistics: .sequential),
                                                 PruningOverrides(statistics: .sequential, biasCompensation: true), nil])
        XCTAssertEqual(gate.map(\.key.method), ["bip", "bip", "bip", "bip", "dense"].sorted())
        XCTAssertTrue(gate.contains { $0.key.label == "bip (sequential, bias on) @ 0.20 seed 0 arc_easy acc (limit 2)" }, "\(gate.map(\.key.label))")
        // A paper-setting result's key is written as before (no `pruning`).
        let plain = try XCTUnwrap(gate.first { $0.key.method == "bip" && $0.key.pruning == nil })
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain.key), as: UTF8.self).contains("pruning"))

        // The unique key holds for jobs with the paper setting too (NULL columns).
        XCTAssertThrowsError(try store.plan(name: "twice", config: config.json, jobs: [.dense, .dense], at: "t"))
    }
}
