import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// Sharded evaluation on the tiny model: the shards of a task cover each item once; shards of any
/// size, each evaluated on its own (in any order, by another `TaskEvaluation`) and combined, give
/// the unsharded run's metrics, samples and windows bit for bit; a window's NLL sum and a
/// document's loglikelihoods do not depend on what else runs in their batch.
final class ShardedEvaluationTests: XCTestCase {
    static let shardSizes = [1, 3, 4, 10, 25]

    func evaluation() throws -> TaskEvaluation {
        let loaded = try TinyModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer,
                                        data: DataDirectory(url: try TestModel.dataDirectory()))
        evaluation.seqLen = 32
        evaluation.windowLimit = 10
        evaluation.documentLimit = 10
        return evaluation
    }

    func testShardsCoverEveryItemExactlyOnce() {
        for (count, size) in [(0, 3), (1, 1), (10, 1), (10, 3), (10, 4), (10, 10), (10, 25), (2382, 256)] {
            let shards = TaskShard.shards(ofTask: "piqa", count: count, shardSize: size)
            XCTAssertEqual(shards.flatMap { Array($0.items) }, Array(0..<count), "\(count) items in shards of \(size)")
            XCTAssertEqual(shards.map(\.index), Array(shards.indices))
            XCTAssertEqual(shards.count, (count + size - 1) / size)
            XCTAssertTrue(shards.dropLast().allSatisfy { $0.count == size })
            XCTAssertTrue(shards.allSatisfy { $0.task == "piqa" && $0.count >= 1 })
        }
    }

    /// Perplexity (wikitext2) and a zero-shot task with both metrics (piqa) and one with four
    /// choices (hellaswag): sharded equals unsharded exactly, shard sizes 1, 3, 4 (not dividing
    /// the 10 items), 10 and 25 (more than the items).
    func testShardedMetricsEqualTheUnshardedRunExactly() throws {
        let evaluation = try evaluation()
        for task in ["wikitext2", "piqa", "hellaswag"] {
            let whole = try evaluation.run(task)
            XCTAssertEqual(whole.windows.count + whole.samples.count, 10, task)
            for size in Self.shardSizes {
                assertSame(try evaluation.run(task, shardSize: size), whole, "\(task) in shards of \(size)")
            }
        }
    }

    /// Each shard evaluated by its own `TaskEvaluation` (as another process would), the shards in
    /// reverse order, then combined: the unsharded outcome.
    func testShardsEvaluatedApartCombineToTheUnshardedRun() throws {
        for task in ["wikitext2", "arc_challenge"] {
            let whole = try evaluation().run(task)
            let count = try evaluation().items(of: task).count
            let outcomes = try TaskShard.shards(ofTask: task, count: count, shardSize: 3).reversed().map { shard in
                let evaluation = try evaluation()
                return try evaluation.run(shard, of: evaluation.items(of: task))
            }
            XCTAssertEqual(outcomes.map(\.shard.first), [9, 6, 3, 0])
            assertSame(try TaskOutcome(task: task, combining: outcomes), whole, task)
        }
    }

    func testCombiningRejectsShardsThatDoNotCoverTheTaskOnce() throws {
        let evaluation = try evaluation()
        let items = try evaluation.items(of: "piqa")
        let outcomes = try TaskShard.shards(ofTask: "piqa", count: items.count, shardSize: 4).map { try evaluation.run($0, of: items) }
        func problem(_ shards: [ShardOutcome], task: String = "piqa") -> String? {
            do {
                _ = try TaskOutcome(task: task, combining: shards)
                return nil
            } catch {
                return (error as? DataError)?.problem
            }
        }
        XCTAssertEqual(problem([outcomes[0], outcomes[2]]), "items 4..<8 are in no shard")
        XCTAssertEqual(problem([outcomes[0], outcomes[1]] + outcomes), "items 0..<4 are in two shards")
        XCTAssertEqual(problem(outcomes, task: "boolq"), "shard 0 belongs to task piqa")
        let wrong = ShardOutcome(shard: outcomes[1].shard, samples: outcomes[2].samples, windows: [], tokensRun: 0, naiveTokens: 0, seconds: 0)
        XCTAssertEqual(problem([outcomes[0], wrong, outcomes[2]]),
                       "shard 1 holds results for items 8... (2), not for its items 4..<8")
        XCTAssertThrowsError(try evaluation.run(TaskShard(task: "piqa", index: 3, first: 8, count: 3), of: items))
        XCTAssertEqual(try TaskOutcome(task: "piqa", combining: outcomes.reversed()).metrics, try TaskOutcome(task: "piqa", combining: outcomes).metrics)
    }

    /// A window's NLL sum is the same bits whether it runs alone or batched with others.
    func testAWindowsNLLSumDoesNotDependOnItsBatch() throws {
        let loaded = try TinyModel.loaded()
        let items = try evaluation().items(of: "wikitext2")
        guard case .windows(let windows, let seqLen) = items.content else { return XCTFail("wikitext2 has windows") }
        let batched = PerplexityEvaluator(model: loaded.model, batch: 8).evaluate(windows, seqLen: seqLen).windowNLL
        for batch in [1, 3] {
            XCTAssertEqual(PerplexityEvaluator(model: loaded.model, batch: batch).evaluate(windows, seqLen: seqLen).windowNLL, batched)
        }
        let alone = windows.map { PerplexityEvaluator(model: loaded.model).evaluate([$0], seqLen: seqLen).windowNLL[0] }
        XCTAssertEqual(alone, batched)
    }

    /// A document's loglikelihoods are the same bits whether it is scored alone or in a batch with
    /// others, under every token budget.
    func testADocumentsLoglikelihoodsDoNotDependOnItsBatch() throws {
        let loaded = try TinyModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        var documents: [[ZeroShotRequest]] = []
        for name in ["hellaswag", "winogrande", "arc_challenge", "boolq"] {
            let task = try ZeroShotTask.load(name, from: data, limit: 5)
            documents += try task.documents.map { try EvalProtocol.llmPruner.requests(for: $0, of: task, tokenizer: loaded.tokenizer) }
        }
        let alone = documents.map { LoglikelihoodScorer(model: loaded.model).score([$0])[0] }
        for budget in [1, 300, 1024, 4096] {
            XCTAssertEqual(LoglikelihoodScorer(model: loaded.model, tokenBudget: budget).score(documents), alone, "budget \(budget)")
        }
    }

    func assertSame(_ sharded: TaskOutcome, _ whole: TaskOutcome, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sharded.task, whole.task, message, file: file, line: line)
        XCTAssertEqual(sharded.metrics, whole.metrics, message, file: file, line: line)
        XCTAssertEqual(sharded.metrics.map(\.value.bitPattern), whole.metrics.map(\.value.bitPattern), message, file: file, line: line)
        XCTAssertEqual(sharded.samples, whole.samples, message, file: file, line: line)
        XCTAssertEqual(sharded.windows, whole.windows, message, file: file, line: line)
        XCTAssertEqual(sharded.detail.filter { $0.key != "seconds" }, whole.detail.filter { $0.key != "seconds" }, message, file: file, line: line)
        XCTAssertEqual(Set(sharded.detail.keys), Set(whole.detail.keys), message, file: file, line: line)
    }
}
