import Foundation
import TestSupport
import XCTest

/// `bip convert` on the tiny model writes a directory that `bip logits --model DIR` runs with
/// exactly the GGUF's results.
final class ConvertCommandTests: XCTestCase {
    func testConvertedDirectoryGivesTheGGUFLogits() throws {
        let folder = try temporaryFolder("convert").appendingPathComponent("model")
        let gguf = try TinyModel.path()
        let converted = try BipExecutable.run(["convert", "--model", gguf, "--output", folder.path])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        for name in ["config.json", "model.safetensors", "tokenizer.gguf"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let text = "The capital of France is"
        let fromGGUF = try BipExecutable.run(["logits", "--model", gguf, "--text", text, "--json"])
        let fromDirectory = try BipExecutable.run(["logits", "--model", folder.path, "--text", text, "--json"])
        XCTAssertEqual(fromGGUF.status, 0, fromGGUF.stderr)
        XCTAssertEqual(fromDirectory.status, 0, fromDirectory.stderr)
        XCTAssertFalse(fromGGUF.stdout.isEmpty)
        XCTAssertEqual(fromDirectory.stdout, fromGGUF.stdout)
    }

    func testConvertOfAMissingModelFailsNamingIt() throws {
        let outcome = try BipExecutable.run(["convert", "--model", "/nonexistent/model.gguf", "--output", "/tmp/never-written"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("error: /nonexistent/model.gguf: "), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never-written"))
    }
}
