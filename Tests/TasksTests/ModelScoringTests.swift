import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The model-side evaluators on the tiny model: KV-cache reuse and batching against a naive
/// evaluator, and every task end to end.
final class ModelScoringTests: XCTestCase {
    /// The scorer's loglikelihoods equal a naive evaluation (each choice's whole sequence run alone)
    /// within 1e-3, and its greedy flags the naive argmax of every continuation position's full
    /// logits, whatever the batching; the naive token count is what it says. Besides the tasks'
    /// documents, one whose first choice is the model's own greedy continuation.
    func testScorerMatchesNaiveEvaluationOnRealDocuments() throws {
        let loaded = try TinyModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        var documents: [[ZeroShotRequest]] = []
        for name in ["hellaswag", "winogrande", "arc_challenge", "boolq"] {
            let task = try ZeroShotTask.load(name, from: data, limit: 3)
            for document in task.documents {
                documents.append(try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: loaded.tokenizer))
            }
        }
        let forward = ForwardPass(model: loaded.model)
        let head = LanguageModelHead(model: loaded.model)
        /// Each position's full logits for `tokens` run alone.
        func logits(_ tokens: [Int]) -> [[Float]] {
            let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: loaded.model, slots: 1))
            return head.logits(hidden, rows: Array(0..<tokens.count))
        }
        /// The first index of the largest value, as argmax picks it.
        func firstArgmax(_ row: [Float]) -> Int { row.indices.first { row[$0] == row.max()! }! }
        let context = documents[0][0].contextTokens
        var greedy: [Int] = []
        for _ in 0..<3 { greedy.append(firstArgmax(logits(context + greedy).last!)) }
        let other = greedy.dropLast() + [(greedy.last! + 1) % loaded.model.config.vocabularySize]
        documents.append([ZeroShotRequest(contextTokens: context, continuationTokens: greedy),
                          ZeroShotRequest(contextTokens: context, continuationTokens: Array(other))])
        var naiveTokens = 0
        let naive = documents.map { requests in
            requests.map { request -> ContinuationScore in
                let tokens = request.tokens
                naiveTokens += tokens.count
                let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: loaded.model, slots: 1))
                let first = request.contextTokens.count - 1
                let rows = logits(tokens)
                return ContinuationScore(
                    loglikelihood: head.logProbabilities(hidden, rows: Array(first..<(tokens.count - 1)),
                                                         targets: Array(tokens[(first + 1)...])).reduce(0, +),
                    isGreedy: (first..<(tokens.count - 1)).allSatisfy { firstArgmax(rows[$0]) == tokens[$0 + 1] })
            }
        }
        XCTAssertEqual(naive.last?.map(\.isGreedy), [true, false])
        for budget in [1, 300, 4096] {
            let scorer = LoglikelihoodScorer(model: loaded.model, tokenBudget: budget)
            let scored = scorer.score(documents)
            for (d, (mine, reference)) in zip(scored, naive).enumerated() {
                XCTAssertEqual(mine.count, reference.count)
                for (c, (a, b)) in zip(mine, reference).enumerated() {
                    XCTAssertEqual(a.loglikelihood, b.loglikelihood, accuracy: 1e-3, "budget \(budget), document \(d), choice \(c)")
                    XCTAssertEqual(a.isGreedy, b.isGreedy, "budget \(budget), document \(d), choice \(c)")
                }
                XCTAssertEqual(ZeroShotScoring.argmax(mine.map(\.loglikelihood)), ZeroShotScoring.argmax(reference.map(\.loglikelihood)))
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
