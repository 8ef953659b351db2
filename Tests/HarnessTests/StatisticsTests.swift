import Foundation
@testable import Harness
import Runtime
import XCTest

/// McNemar's exact test, Holm's correction and the seeded paired bootstrap, against values
/// worked out by hand or computed again here independently.
final class StatisticsTests: XCTestCase {
    func testMcNemarExactPValuesByHand() {
        // b = 10, c = 2: 2 · (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 · 79 / 4096.
        XCTAssertEqual(McNemarTest.pValue(b: 10, c: 2), 158.0 / 4096, accuracy: 1e-12)
        XCTAssertEqual(McNemarTest.pValue(b: 2, c: 10), 158.0 / 4096, accuracy: 1e-12)
        // b = 0, c = 5: 2 / 32.
        XCTAssertEqual(McNemarTest.pValue(b: 0, c: 5), 2.0 / 32, accuracy: 1e-12)
        // b = 1, c = 7: 2 · (1 + 8) / 256.
        XCTAssertEqual(McNemarTest.pValue(b: 1, c: 7), 18.0 / 256, accuracy: 1e-12)
        // Balanced discordance is capped at 1; no discordance is 1.
        XCTAssertEqual(McNemarTest.pValue(b: 3, c: 3), 1)
        XCTAssertEqual(McNemarTest.pValue(b: 0, c: 0), 1)
        // From answer lists: documents 0 and 1 went wrong, none went right: b = 2, c = 0 -> 2 / 4.
        XCTAssertEqual(McNemarTest.pValue(before: [true, true, false, true], now: [false, false, false, true]), 0.5, accuracy: 1e-12)
    }

    func testHolmByHand() {
        // Sorted: 0.005 · 4 = 0.02, 0.01 · 3 = 0.03, 0.03 · 2 = 0.06, 0.04 · 1 = 0.04 -> raised to 0.06.
        let adjusted = HolmCorrection.adjusted([0.01, 0.04, 0.03, 0.005])
        for (a, b) in zip(adjusted, [0.03, 0.06, 0.06, 0.02]) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        // Capped at 1, and a larger p-value never gets a smaller adjusted one.
        XCTAssertEqual(HolmCorrection.adjusted([0.5, 0.6]), [1, 1])
        // Equal p-values: 0.02 · 3 = 0.06, then 0.02 · 2 = 0.04 -> 0.06, then 0.5.
        XCTAssertEqual(HolmCorrection.adjusted([0.02, 0.5, 0.02]).map { ($0 * 1e12).rounded() / 1e12 }, [0.06, 0.5, 0.06])
        XCTAssertEqual(HolmCorrection.adjusted([]), [])
        // One test: unchanged.
        XCTAssertEqual(HolmCorrection.adjusted([0.03]), [0.03])
    }

    /// Windows of 10 tokens with NLL sums from a fixed recipe.
    func windows(_ sums: [Double]) -> [PerplexityWindow] {
        sums.enumerated().map { PerplexityWindow(runID: 1, task: "wikitext2", windowIndex: $0.offset, nllSum: $0.element, tokens: 10) }
    }

    func testPerplexityBootstrapAgainstAnIndependentComputation() {
        let base: [Double] = (0..<30).map { (i: Int) -> Double in Double((i * 7) % 11) }
        let rise: [Double] = (0..<30).map { (i: Int) -> Double in Double((i * 5) % 3) }
        let before = windows(base.map { 40 + $0 })
        let now = windows(zip(base, rise).map { 41 + $0 + $1 })
        let bootstrap = PairedBootstrap(resamples: 200, seed: 99)
        // Done again here: the same generator, each resample's 30 indices drawn in order, the
        // difference of mean NLL per token, its standard deviation, the normal two-sided p.
        var generator = SeededGenerator(seed: 99)
        var draws: [Double] = []
        for _ in 0..<200 {
            var a = 0.0, b = 0.0
            for _ in 0..<30 {
                let i = generator.index(below: 30)
                a += before[i].nllSum
                b += now[i].nllSum
            }
            draws.append((b - a) / 300)
        }
        let mean = draws.reduce(0, +) / 200
        let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 199).squareRoot()
        let observed = (now.map(\.nllSum).reduce(0, +) - before.map(\.nllSum).reduce(0, +)) / 300
        let expected = erfc(abs(observed) / (sd * 2.0.squareRoot()))
        let p = bootstrap.perplexityPValue(before: before, now: now)
        XCTAssertEqual(p, expected, accuracy: 1e-12 + 1e-9 * expected)
        XCTAssertLessThan(p, 1e-6, "a rise of about 0.2 nats per token on every window")
        // Symmetric in the pair, the same on every call.
        XCTAssertEqual(bootstrap.perplexityPValue(before: now, now: before), p, accuracy: 1e-12 + 1e-9 * expected)
        XCTAssertEqual(bootstrap.perplexityPValue(before: before, now: now), p)
        // Identical results: nothing differs, p = 1; a constant shift: nothing varies, p = 0.
        XCTAssertEqual(bootstrap.perplexityPValue(before: before, now: before), 1)
        XCTAssertEqual(bootstrap.perplexityPValue(before: before, now: windows(before.map { $0.nllSum + 1 })), 0)
    }

    func testIntervalsArePercentilesOfTheSameDraws() throws {
        let bootstrap = PairedBootstrap(resamples: 40, seed: 5)
        let w = windows((0..<12).map { (i: Int) -> Double in 30 + Double((i * 5) % 7) })
        var generator = SeededGenerator(seed: 5)
        var draws: [Double] = []
        for _ in 0..<40 {
            var sum = 0.0
            for _ in 0..<12 { sum += w[generator.index(below: 12)].nllSum }
            draws.append(exp(sum / 120))
        }
        draws.sort()
        // ⌊0.025 · 40⌋ = 1: the 2nd smallest and the 2nd largest.
        let interval = try XCTUnwrap(bootstrap.perplexityInterval(w))
        XCTAssertEqual(interval.lowerBound, draws[1], accuracy: 1e-9)
        XCTAssertEqual(interval.upperBound, draws[38], accuracy: 1e-9)
        XCTAssertTrue(interval.contains(PerplexityWindow.perplexity(of: w)))
        // A window whose sum is not a number (a PostgreSQL store can hold one): no interval, no trap.
        var broken = w
        broken[3] = PerplexityWindow(runID: 1, task: "wikitext2", windowIndex: 3, nllSum: .nan, tokens: 10)
        XCTAssertNil(bootstrap.perplexityInterval(broken))

        // The average accuracy over two tasks, documents drawn within each task (task 0 first).
        let correct = [[true, false, true, true], [false, false, true]]
        var g = SeededGenerator(seed: 5)
        var averages: [Double] = []
        for _ in 0..<40 {
            var first = 0, second = 0
            for _ in 0..<4 where correct[0][g.index(below: 4)] { first += 1 }
            for _ in 0..<3 where correct[1][g.index(below: 3)] { second += 1 }
            averages.append((Double(first) / 4 + Double(second) / 3) / 2)
        }
        averages.sort()
        let accuracy = try XCTUnwrap(bootstrap.averageAccuracyInterval(correct))
        XCTAssertEqual(accuracy.lowerBound, averages[1], accuracy: 1e-12)
        XCTAssertEqual(accuracy.upperBound, averages[38], accuracy: 1e-12)
    }

    func testAverageAccuracyPValue() {
        let bootstrap = PairedBootstrap(resamples: 300, seed: 1)
        let before = [[Bool]](repeating: (0..<50).map { $0 % 4 != 0 }, count: 2)
        // The same answers: p = 1. Twenty more wrong in each task: clearly different.
        XCTAssertEqual(bootstrap.averageAccuracyPValue(before: before, now: before), 1)
        let now = before.map { answers in answers.enumerated().map { $0.offset < 30 ? false : $0.element } }
        XCTAssertLessThan(bootstrap.averageAccuracyPValue(before: before, now: now), 1e-4)
    }
}
