import Foundation
@testable import Harness
import TestSupport
import XCTest

/// The regression gate, against values worked out by hand.
final class GateTests: XCTestCase {
    func key(_ method: String, _ task: String, _ metric: String) -> ResultKey {
        ResultKey(modelSHA256: "abc", method: method, sparsity: method == "dense" ? 0 : 0.2, seed: 0,
                  evalProtocol: "llm-pruner", limit: 20, task: task, metric: metric)
    }

    func testTolerancesMissingAndNewResults() {
        let baseline = Baseline(entries: [
            GateEntry(key: key("dense", "wikitext2", "ppl"), value: 50, stderr: nil, n: 1000, correct: nil, runID: 1),
            GateEntry(key: key("bip", "wikitext2", "ppl"), value: 80, stderr: nil, n: 1000, correct: nil, runID: 2),
            GateEntry(key: key("bip", "piqa", "acc"), value: 0.60, stderr: 0.1, n: 5, correct: "11100", runID: 2),
            GateEntry(key: key("bip", "arc_easy", "acc"), value: 0.60, stderr: 0.1, n: 5, correct: "11100", runID: 2),
            GateEntry(key: key("flap", "piqa", "acc"), value: 0.5, stderr: nil, n: 5, correct: nil, runID: 3),
        ])
        let current = [
            GateEntry(key: key("dense", "wikitext2", "ppl"), value: 50.49, stderr: nil, n: 1000, correct: nil, runID: 9),  // +0.98%: ok
            GateEntry(key: key("bip", "wikitext2", "ppl"), value: 80.81, stderr: nil, n: 1000, correct: nil, runID: 9),    // +1.01%: regression
            GateEntry(key: key("bip", "piqa", "acc"), value: 0.40, stderr: 0.1, n: 5, correct: "10100", runID: 9),        // -0.20: regression
            GateEntry(key: key("bip", "arc_easy", "acc"), value: 0.60, stderr: 0.1, n: 5, correct: "01110", runID: 9),    // equal: ok
            GateEntry(key: key("bip", "boolq", "acc"), value: 0.5, stderr: nil, n: 5, correct: nil, runID: 9),            // new
        ]
        let (checks, new) = RegressionGate(maxPerplexityIncrease: 0.01, maxAccuracyDrop: 0.02).compare(baseline, with: current)
        let verdicts = Dictionary(uniqueKeysWithValues: checks.map { ($0.key, $0.verdict) })
        XCTAssertEqual(verdicts[key("dense", "wikitext2", "ppl")], .ok)
        XCTAssertEqual(verdicts[key("bip", "wikitext2", "ppl")], .regression)
        XCTAssertEqual(verdicts[key("bip", "piqa", "acc")], .regression)
        XCTAssertEqual(verdicts[key("bip", "arc_easy", "acc")], .ok)
        XCTAssertEqual(verdicts[key("flap", "piqa", "acc")], .missing)
        XCTAssertEqual(new, [key("bip", "boolq", "acc")])
        let ppl = checks.first { $0.key == key("bip", "wikitext2", "ppl") }!
        XCTAssertEqual(ppl.allowed, 80.8, accuracy: 1e-9)
        // piqa: 11100 -> 10100: one document went wrong (b = 1, c = 0): p = 2 · 1/2 = 1.
        XCTAssertEqual(checks.first { $0.key == key("bip", "piqa", "acc") }!.pValue, 1)
        // arc_easy: 11100 -> 01110: b = 1 (doc 0), c = 1 (doc 3): p = 1.
        XCTAssertEqual(checks.first { $0.key == key("bip", "arc_easy", "acc") }!.pValue, 1)
        XCTAssertNil(checks.first { $0.key == key("bip", "wikitext2", "ppl") }!.pValue)
    }

    /// A value that is not a number (a PostgreSQL store can hold one) or is infinite is a
    /// regression, whichever way the metric goes.
    func testAValueThatIsNotANumberIsARegression() {
        let baseline = Baseline(entries: [
            GateEntry(key: key("bip", "wikitext2", "ppl"), value: 80, stderr: nil, n: 1000, correct: nil, runID: 2),
            GateEntry(key: key("bip", "piqa", "acc"), value: 0.60, stderr: nil, n: 5, correct: nil, runID: 2),
            GateEntry(key: key("flap", "wikitext2", "ppl"), value: 80, stderr: nil, n: 1000, correct: nil, runID: 3),
        ])
        let current = [
            GateEntry(key: key("bip", "wikitext2", "ppl"), value: .nan, stderr: nil, n: 1000, correct: nil, runID: 9),
            GateEntry(key: key("bip", "piqa", "acc"), value: .nan, stderr: nil, n: 5, correct: nil, runID: 9),
            GateEntry(key: key("flap", "wikitext2", "ppl"), value: .infinity, stderr: nil, n: 1000, correct: nil, runID: 9),
        ]
        let (checks, _) = RegressionGate(maxPerplexityIncrease: 0.01, maxAccuracyDrop: 0.02).compare(baseline, with: current)
        XCTAssertEqual(checks.map(\.verdict), [.regression, .regression, .regression])
    }

    /// A perplexity check gets the paired bootstrap's p-value when the baseline's run has its
    /// windows in the same database (they give back the baseline's value), else none.
    func testPerplexityChecksGetTheBootstrapPValueFromStoredWindows() {
        func windows(_ run: Int64, rise: Double) -> [PerplexityWindow] {
            (0..<20).map { PerplexityWindow(runID: run, task: "wikitext2", windowIndex: $0, nllSum: 400 + Double($0 % 5) * 10 + rise * Double($0 % 3), tokens: 127) }
        }
        let stored: [Int64: [PerplexityWindow]] = [1: windows(1, rise: 0), 9: windows(9, rise: 0.5)]
        let basePPL = PerplexityWindow.perplexity(of: stored[1]!), nowPPL = PerplexityWindow.perplexity(of: stored[9]!)
        let current = [GateEntry(key: key("bip", "wikitext2", "ppl"), value: nowPPL, stderr: nil, n: 2540, correct: nil, runID: 9)]
        let gate = RegressionGate(maxPerplexityIncrease: 0.01, maxAccuracyDrop: 0.02)
        let found = gate.compare(Baseline(entries: [GateEntry(key: key("bip", "wikitext2", "ppl"), value: basePPL, stderr: nil, n: 2540, correct: nil, runID: 1)]),
                                 with: current, windows: { run, _ in stored[run] }).checks[0]
        XCTAssertEqual(found.test, "bootstrap")
        XCTAssertEqual(found.pValue, PairedBootstrap().perplexityPValue(before: stored[1]!, now: stored[9]!))
        XCTAssertEqual(found.verdict, .ok, "a rise of \(nowPPL / basePPL)")
        // Run 1 of this database is not the baseline's run (another value): no test.
        let other = gate.compare(Baseline(entries: [GateEntry(key: key("bip", "wikitext2", "ppl"), value: basePPL + 1e-9, stderr: nil, n: 2540, correct: nil, runID: 1)]),
                                 with: current, windows: { run, _ in stored[run] }).checks[0]
        XCTAssertNil(other.pValue)
        // Without stored windows: no test.
        XCTAssertNil(gate.compare(Baseline(entries: [GateEntry(key: key("bip", "wikitext2", "ppl"), value: basePPL, stderr: nil, n: 2540, correct: nil, runID: 1)]),
                                  with: current).checks[0].pValue)
    }

    func testBaselineRoundTripAndBadFile() throws {
        let folder = try temporaryFolder("gate")
        let path = folder.appendingPathComponent("baseline.json").path
        let baseline = Baseline(entries: [GateEntry(key: key("dense", "piqa", "acc_norm"), value: 0.5, stderr: 0.2, n: 2, correct: "10", runID: 1)])
        try baseline.write(to: path)
        XCTAssertEqual(try Baseline.load(path), baseline)
        try Data("{\"entries\": [{\"value\": 1}]}".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Baseline.load(path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": not a bip baseline"), "\(error)")
        }
    }

    func testABaselineWrittenOnAFullDiskLeavesTheOldOneWhole() throws {
        let disk = try ScratchDisk(megabytes: 1)
        defer { disk.remove() }
        let path = disk.url.appendingPathComponent("baseline.json").path
        let old = Baseline(entries: [GateEntry(key: key("dense", "piqa", "acc_norm"), value: 0.5, stderr: 0.2, n: 2, correct: "10", runID: 1)])
        try old.write(to: path)
        disk.fill()
        let new = Baseline(entries: (0..<200).map { GateEntry(key: key("bip", "piqa", "acc_\($0)"), value: 0.25, stderr: nil, n: 4, correct: nil, runID: 2) })
        XCTAssertThrowsError(try new.write(to: path)) { error in
            XCTAssertEqual("\(error)", path + ": cannot write: No space left on device")
        }
        XCTAssertEqual(try Baseline.load(path), old)
        XCTAssertEqual(disk.partialFiles(), [])
    }
}
