import XCTest
@testable import Tasks

/// Metric math on hand-made loglikelihoods; expected values computed by hand.
final class ZeroShotMetricsTests: XCTestCase {
    func doc(_ index: Int, _ texts: [String], gold: Int) -> ZeroShotDocument {
        ZeroShotDocument(index: index, contexts: ["c"], continuations: texts.map { " " + $0 }, gold: gold, choiceTexts: texts)
    }

    func testArgmaxTiesGoToTheLowestIndex() {
        XCTAssertEqual(ZeroShotScoring.argmax([-1, -1]), 0)
        XCTAssertEqual(ZeroShotScoring.argmax([-3, -2, -2]), 1)
    }

    func testBoolQTieGoesToNo() {
        let yes = doc(0, ["no", "yes"], gold: 1)
        XCTAssertEqual(ZeroShotScoring.score(yes, loglikelihoods: [-1.5, -1.5], metrics: [.acc]), [.acc: 0])
    }

    func testAccNormDividesByCodePoints() {
        // lengths 1 and 4: acc picks -2 (index 0), acc_norm picks -4/4 = -1 over -2/1 (index 1).
        XCTAssertEqual(ZeroShotScoring.score(doc(0, ["a", "bbbb"], gold: 1), loglikelihoods: [-2, -4], metrics: [.acc, .accNorm]),
                       [.acc: 0, .accNorm: 1])
        // "e" + U+0301 is 2 code points (1 grapheme): -2.2/2 = -1.1 beats -2.3/2 = -1.15. By graphemes it would lose.
        XCTAssertEqual(ZeroShotScoring.score(doc(0, ["e\u{301}", "ab"], gold: 0), loglikelihoods: [-2.2, -2.3], metrics: [.accNorm]),
                       [.accNorm: 1])
        // "日" is 1 code point (3 bytes): -1.2/1 loses to -2.2/2 = -1.1. By bytes it would win.
        XCTAssertEqual(ZeroShotScoring.score(doc(0, ["日", "ab"], gold: 1), loglikelihoods: [-1.2, -2.2], metrics: [.accNorm]),
                       [.accNorm: 1])
    }

    func testMeanStderrAndN() throws {
        let documents = [doc(0, ["a", "b"], gold: 0), doc(1, ["a", "b"], gold: 1), doc(2, ["a", "b"], gold: 0), doc(3, ["a", "b"], gold: 1)]
        let task = ZeroShotTask(name: "toy", file: "toy.jsonl", documents: documents, metrics: [.acc], paperMetric: .acc)
        // Predictions 0, 1, 1, 0 -> scores 1, 1, 0, 0: mean 0.5, sample variance 1/3, stderr sqrt(1/3)/2.
        let result = try ZeroShotScoring.evaluate(task, loglikelihoods: [[-1, -2], [-2, -1], [-2, -1], [-1, -1]])
        let acc = try XCTUnwrap(result[.acc])
        XCTAssertEqual(acc.n, 4)
        XCTAssertEqual(acc.mean, 0.5)
        XCTAssertEqual(acc.stderr, 0.28867513459481287, accuracy: 1e-15)
        // Three of four right: mean 0.75, variance (3 * 0.0625 + 0.5625) / 3 = 0.25, stderr 0.5 / 2.
        let three = MetricValue(scores: [1, 1, 1, 0])
        XCTAssertEqual(three.mean, 0.75)
        XCTAssertEqual(three.stderr, 0.25, accuracy: 1e-15)
        XCTAssertTrue(MetricValue(scores: [1]).stderr.isNaN)
    }

    func testMismatchedLoglikelihoodsAreAnError() {
        let task = ZeroShotTask(name: "toy", file: "toy.jsonl", documents: [doc(7, ["a", "b"], gold: 0)], metrics: [.acc], paperMetric: .acc)
        XCTAssertEqual(dataError { _ = try ZeroShotScoring.evaluate(task, loglikelihoods: [[-1]]) },
                       DataError(file: "toy.jsonl", line: 8, field: "loglikelihoods", problem: "1 values, expected 2"))
    }

    func testBoolQAllTiesScoreTheNoRate() throws {
        let task = try ZeroShotTask.load("boolq", from: try realData())
        let result = try ZeroShotScoring.evaluate(task, loglikelihoods: Array(repeating: [0, 0], count: 3270))
        XCTAssertEqual(result[.acc]?.mean ?? 0, 1237.0 / 3270.0, accuracy: 1e-12)
        XCTAssertNil(result[.accNorm])
    }
}
