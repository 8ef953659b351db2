import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// Perplexity on the real model against the reference logits fixture.
final class ReferencePerplexityTests: XCTestCase {
    struct LogitsCase: Decodable {
        let ids: [Int]
        let next_token_logprobs: [Double]
        let mean_nll: Double
    }

    func logitsCases() throws -> [LogitsCase] {
        struct File: Decodable { let cases: [LogitsCase] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/logits-cases.json"))).cases
    }

    /// Windows whose reference NLL is known: the 40-token case whole, and the first 40 tokens of
    /// the 198-token case (causal, so its first 39 next-token log-probabilities are the fixture's).
    func testPerplexityMatchesTheReferenceNLL() throws {
        let model = try TestModel.loaded().model
        let cases = try logitsCases()
        let windows = [cases[1].ids[...], cases[2].ids[0..<40]]
        let expectedNLL = -(cases[1].next_token_logprobs + cases[2].next_token_logprobs.prefix(39)).reduce(0, +) / 78
        for batch in [1, 2] {
            let result = PerplexityEvaluator(model: model, batch: batch).evaluate(windows, seqLen: 40)
            XCTAssertEqual(result.tokens, 78)
            XCTAssertEqual(result.windows, 2)
            XCTAssertEqual(result.meanNLL, expectedNLL, accuracy: 1e-4, "batch \(batch)")
            XCTAssertEqual(result.perplexity, exp(expectedNLL), accuracy: 1e-4 * exp(expectedNLL))
        }
        let whole = PerplexityEvaluator(model: model).evaluate([cases[2].ids[...]], seqLen: 198)
        XCTAssertEqual(whole.meanNLL, cases[2].mean_nll, accuracy: 1e-4)
    }
}
