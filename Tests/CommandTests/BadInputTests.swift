import Foundation
import TestSupport
import XCTest

/// The `bip` executable given bad input: one clear line naming the file and the problem on
/// stderr, exit status 1, and nothing already stored lost.
final class BadInputTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("cli")
    }

    func bip(_ arguments: [String]) throws -> BipExecutable.Outcome { try BipExecutable.run(arguments) }

    func testTruncatedModelFile() throws {
        let model = try Data(contentsOf: URL(fileURLWithPath: try TinyModel.path()))
        let truncated = folder.appendingPathComponent("truncated.gguf")
        try model.prefix(model.count / 2).write(to: truncated)
        let outcome = try bip(["logits", "--model", truncated.path, "--text", "Hello"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("error: \(truncated.path): "), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("past the end of the file"), outcome.stderr)
    }

    func testCorruptedDatabaseIsLeftAlone() throws {
        let db = folder.appendingPathComponent("junk.sqlite")
        let junk = Data(repeating: 0x5a, count: 4096)
        try junk.write(to: db)
        let outcome = try bip(["runs", "--db", db.path])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains(db.path) && outcome.stderr.contains("not a database"), outcome.stderr)
        XCTAssertEqual(try Data(contentsOf: db), junk)
    }

    func testImpossibleSparsitySaysWhatIsPossible() throws {
        let ids = folder.appendingPathComponent("ids.json")
        try Data("[[84, 107, 292, 289, 3, 117, 104, 104]]".utf8).write(to: ids)
        let outcome = try bip(["prune", "--model", try TinyModel.path(), "--method", "bip", "--sparsity", "0.9",
                               "--calibration-ids", ids.path])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("largest reachable"), outcome.stderr)
    }

    /// A run that fails on a damaged data file leaves the earlier runs of the database intact.
    func testDamagedDataFileFailsWithoutLosingStoredRuns() throws {
        let db = folder.appendingPathComponent("results.sqlite").path
        let data = try TestModel.dataDirectory()
        let first = try bip(["eval", "--model", try TinyModel.path(), "--tasks", "wikitext2", "--limit", "1",
                             "--data", data.path, "--db", db])
        XCTAssertEqual(first.status, 0, first.stderr)

        let damaged = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: damaged.appendingPathComponent("piqa"), withIntermediateDirectories: true)
        for name in ["valid.jsonl", "valid-labels.lst"] {
            try FileManager.default.copyItem(at: data.appendingPathComponent("piqa/\(name)"),
                                             to: damaged.appendingPathComponent("piqa/\(name)"))
        }
        var text = try String(contentsOf: damaged.appendingPathComponent("piqa/valid.jsonl"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"goal\"", with: "\"gaol\"")
        try text.write(to: damaged.appendingPathComponent("piqa/valid.jsonl"), atomically: true, encoding: .utf8)
        let second = try bip(["eval", "--model", try TinyModel.path(), "--tasks", "piqa", "--limit", "2",
                              "--data", damaged.path, "--db", db])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("piqa/valid.jsonl"), second.stderr)

        let runs = try bip(["runs", "--db", db])
        XCTAssertEqual(runs.status, 0, runs.stderr)
        let lines = runs.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, runs.stdout)
        XCTAssertTrue(lines[0].hasSuffix("\twikitext2"), runs.stdout)
        XCTAssertTrue(lines[1].contains("unfinished"), runs.stdout)
    }
}
