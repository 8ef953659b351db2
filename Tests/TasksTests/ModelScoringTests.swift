import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The model-side evaluators on the real model: perplexity against the reference logits fixture,
/// and KV-cache reuse and batching against a naive evaluator.
final class ModelScoringTests: XCTestCase {
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

    /// The scorer's loglikelihoods equal a naive evaluation (each choice's whole sequence run alone)
    /// within 1e-3, whatever the batching; the naive token count is what it says.
    func testScorerMatchesNaiveEvaluationOnRealDocuments() throws {
        let loaded = try TestModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        var documents: [[ZeroShotRequest]] = []
        for name in ["hellaswag", "winogrande", "arc_challenge"] {
            let task = try ZeroShotTask.load(name, from: data, limit: 3)
            for document in task.documents {
                documents.append(try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: loaded.tokenizer))
            }
        }
        let forward = ForwardPass(model: loaded.model)
        let head = LanguageModelHead(model: loaded.model)
        var naiveTokens = 0
        let naive = documents.map { requests in
            requests.map { request -> Double in
                let tokens = request.tokens
                naiveTokens += tokens.count
                let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: loaded.model, slots: 1))
                let first = request.contextTokens.count - 1
                return head.logProbabilities(hidden, rows: Array(first..<(tokens.count - 1)),
                                             targets: Array(tokens[(first + 1)...])).reduce(0, +)
            }
        }
        for budget in [1, 300, 4096] {
            let scorer = LoglikelihoodScorer(model: loaded.model, tokenBudget: budget)
            let scored = scorer.score(documents)
            for (d, (mine, reference)) in zip(scored, naive).enumerated() {
                XCTAssertEqual(mine.count, reference.count)
                for (c, (a, b)) in zip(mine, reference).enumerated() {
                    XCTAssertEqual(a, b, accuracy: 1e-3, "budget \(budget), document \(d), choice \(c)")
                }
                XCTAssertEqual(ZeroShotScoring.argmax(mine), ZeroShotScoring.argmax(reference))
            }
            XCTAssertEqual(scorer.naiveTokens, naiveTokens)
            XCTAssertLessThan(scorer.tokensRun, naiveTokens, "the shared contexts are run once")
        }
    }

    /// A limited end-to-end run of every task through `TaskEvaluation` (the CI smoke run).
    func testEveryTaskRunsEndToEndWithALimit() throws {
        let loaded = try TestModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer,
                                        data: DataDirectory(url: try TestModel.dataDirectory()))
        evaluation.limit = 4
        for spec in TaskCatalog.all {
            let name = spec.name
            let outcome = try evaluation.run(name)
            if spec.isPerplexity {
                XCTAssertEqual(outcome.metrics.map(\.name), ["ppl"])
                XCTAssertEqual(outcome.metrics[0].n, 4 * 127)
                XCTAssertTrue((10...1000).contains(outcome.metrics[0].value), "\(name) ppl \(outcome.metrics[0].value)")
            } else {
                XCTAssertEqual(outcome.samples.count, 4, name)
                XCTAssertEqual(outcome.metrics.first?.name, "acc", name)
                for metric in outcome.metrics { XCTAssertEqual(metric.n, 4) }
                XCTAssertEqual(outcome.metrics.count, ["boolq", "winogrande"].contains(name) ? 1 : 2, name)
            }
        }
    }
}
