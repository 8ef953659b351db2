import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

/// The default model (SmolLM2-135M) evaluated in shards: WikiText2 on its first 20 windows and
/// arc_challenge on its first 40 documents, in shards of 1 (every item alone), 7 (dividing
/// neither count) and 64 (more than the items), combined, equal the unsharded run bit for bit.
final class ShardedEvaluationRealModelTests: XCTestCase {
    func testShardedEqualsUnshardedOnTheDefaultModel() throws {
        let loaded = try TestModel.loaded()
        var evaluation = TaskEvaluation(model: loaded.model, tokenizer: loaded.tokenizer, data: DataDirectory(url: try TestModel.dataDirectory()))
        evaluation.windowLimit = 20
        evaluation.documentLimit = 40
        for task in ["wikitext2", "arc_challenge"] {
            let whole = try evaluation.run(task)
            XCTAssertEqual(whole.windows.count + whole.samples.count, task == "wikitext2" ? 20 : 40)
            for size in [1, 7, 64] {
                let sharded = try evaluation.run(task, shardSize: size)
                XCTAssertEqual(sharded.metrics, whole.metrics, "\(task) in shards of \(size)")
                XCTAssertEqual(sharded.metrics.map(\.value.bitPattern), whole.metrics.map(\.value.bitPattern), "\(task) in shards of \(size)")
                XCTAssertEqual(sharded.metrics.map { $0.stderr?.bitPattern }, whole.metrics.map { $0.stderr?.bitPattern })
                XCTAssertEqual(sharded.samples, whole.samples, "\(task) in shards of \(size)")
                XCTAssertEqual(sharded.windows, whole.windows, "\(task) in shards of \(size)")
                XCTAssertEqual(sharded.detail.filter { $0.key != "seconds" }, whole.detail.filter { $0.key != "seconds" })
            }
        }
    }
}
