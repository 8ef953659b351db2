import Foundation
import TestSupport
import XCTest

/// `bip eval --shard-size N` on the tiny model: every task evaluated shard by shard gives the
/// numbers of the unsharded run exactly; a shard size below 1 is refused.
final class EvalShardSizeTests: XCTestCase {
    func testShardedEvalPrintsTheUnshardedNumbers() throws {
        let folder = try temporaryFolder("shards")
        func tasks(_ extra: [String]) throws -> NSDictionary {
            let outcome = try BipExecutable.run(["eval", "--model", try TinyModel.path(), "--tasks", "wikitext2,piqa,arc_easy",
                                                 "--limit", "7", "--data", try TestModel.dataDirectory().path,
                                                 "--db", folder.appendingPathComponent("r.sqlite").path, "--json"] + extra)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap(json["tasks"] as? NSDictionary)
        }
        let whole = try tasks([])
        XCTAssertEqual(whole.count, 3)
        XCTAssertEqual(try tasks(["--shard-size", "3"]), whole)

        let refused = try BipExecutable.run(["eval", "--model", try TinyModel.path(), "--shard-size", "0"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--shard-size must be at least 1"), refused.stderr)
    }
}
