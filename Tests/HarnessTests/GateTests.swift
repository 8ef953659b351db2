import Foundation
@testable import Harness
import XCTest

/// The regression gate and McNemar's exact test, against values worked out by hand.
final class GateTests: XCTestCase {
    func testMcNemarExactPValuesByHand() {
        // b = 10, c = 2: 2 · (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 · 79 / 4096.
        XCTAssertEqual(McNemarTest.pValue(b: 10, c: 2), 158.0 / 4096, accuracy: 1e-12)
        XCTAssertEqual(McNemarTest.pValue(b: 2, c: 10), 158.0 / 4096, accuracy: 1e-12)
        // b = 0, c = 5: 2 / 32.
        XCTAssertEqual(McNemarTest.pValue(b: 0, c: 5), 2.0 / 32, accuracy: 1e-12)
        // Balanced discordance is capped at 1; no discordance is 1.
        XCTAssertEqual(McNemarTest.pValue(b: 3, c: 3), 1)
        XCTAssertEqual(McNemarTest.pValue(b: 0, c: 0), 1)
        // From answer lists: documents 0 and 1 went wrong, none went right: b = 2, c = 0 -> 2 / 4.
        XCTAssertEqual(McNemarTest.pValue(before: [true, true, false, true], now: [false, false, false, true]), 0.5, accuracy: 1e-12)
    }

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

    func testBaselineRoundTripAndBadFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bip-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("baseline.json").path
        let baseline = Baseline(entries: [GateEntry(key: key("dense", "piqa", "acc_norm"), value: 0.5, stderr: 0.2, n: 2, correct: "10", runID: 1)])
        try baseline.write(to: path)
        XCTAssertEqual(try Baseline.load(path), baseline)
        try Data("{\"entries\": [{\"value\": 1}]}".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Baseline.load(path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": not a bip baseline"), "\(error)")
        }
    }
}
