import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The model-side evaluators on the tiny model: KV-cache reuse and batching against a naive
/// evaluator, and every task end to end.
final class ModelScoringTests: XCTestCase {
    /// The scorer's loglikelihoods equal a naive evaluation (each choice's whole sequence run alone)
    /// within 1e-3, whatever the batching; the naive token count is what it says.
    func testScorerMatchesNaiveEvaluationOnRealDocuments() throws {
        let loaded = try TinyModel.loaded()
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
        let loaded = try TinyModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer,
                                        data: DataDirectory(url: try TestModel.dataDirectory()))
        evaluation.documentLimit = 4
        evaluation.windowLimit = 4
        for spec in TaskCatalog.all {
            let name = spec.name
            let outcome = try evaluation.run(name)
            if spec.isPerplexity {
                XCTAssertEqual(outcome.metrics.map(\.name), ["ppl"])
                XCTAssertEqual(outcome.metrics[0].n, 4 * 127)
                XCTAssertTrue(outcome.metrics[0].value.isFinite && outcome.metrics[0].value > 1, "\(name) ppl \(outcome.metrics[0].value)")
            } else {
                XCTAssertEqual(outcome.samples.count, 4, name)
                XCTAssertEqual(outcome.metrics.first?.name, "acc", name)
                for metric in outcome.metrics { XCTAssertEqual(metric.n, 4) }
                XCTAssertEqual(outcome.metrics.count, ["boolq", "winogrande"].contains(name) ? 1 : 2, name)
            }
        }
    }
}
