import Foundation
import TestSupport
import XCTest

/// `bip tokenize` given a tokenizer alone: no weights anywhere, so nothing but the vocabulary
/// can be read.
final class TokenizeCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("tokenize")
    }

    func testVocabularyOnlyGGUF() throws {
        let vocabulary = try TestModel.sharedFile("fixtures/llama-spm/ggml-vocab-llama-spm.gguf").path
        // Ids from the fixture's reference output (cases "Hello world" and " Hello, world!").
        let plain = try BipExecutable.run(["tokenize", "--model", vocabulary, "--text", "Hello world"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.stdout, "15043 3186\n")
        let json = try BipExecutable.run(["tokenize", "--model", vocabulary, "--text", " Hello, world!", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(try JSONDecoder().decode([String: [Int]].self, from: Data(json.stdout.utf8)), ["ids": [29871, 15043, 29892, 3186, 29991]])
        let special = try BipExecutable.run(["tokenize", "--model", vocabulary, "--text", "<s>Hello world", "--special"])
        XCTAssertEqual(special.stdout, "1 15043 3186\n")
    }

    /// A miniature byte-level tokenizer.json: the 256 byte symbols are ids 0…255 in GPT-2's
    /// byte order, then "hi" 256 and "Ġhi" 257.
    private func writeTokenizerJSON(in directory: URL, model: String = #""type": "BPE""#) throws {
        var scalars: [String] = []
        var next: UInt32 = 0x100
        for byte in 0..<256 as Range<UInt32> {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            scalars.append(String(Unicode.Scalar(printable ? byte : { defer { next += 1 }; return next }())!))
        }
        // Typed: with GRDB linked into this target, the literal would otherwise be inferred as its SQL.
        let vocab: String = (scalars + ["hi", "Ġhi"]).enumerated().map { id, token -> String in
            let escaped = token == "\"" ? "\\\"" : token == "\\" ? "\\\\" : token
            return "\"\(escaped)\": \(id)"
        }.joined(separator: ", ")
        let text = """
            {"added_tokens": [], "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
             "model": {\(model), "byte_fallback": false, "vocab": {\(vocab)}, "merges": ["h i", "Ġ hi"]}}
            """
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
    }

    func testTokenizerJSONFileAndDirectory() throws {
        let directory = folder.appendingPathComponent("tok")
        try writeTokenizerJSON(in: directory)
        for spec in [directory.path, directory.appendingPathComponent("tokenizer.json").path] {
            let outcome = try BipExecutable.run(["tokenize", "--model", spec, "--text", "hi hi!"])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            // "hi", " hi" ("Ġ" + "hi"), "!" (byte 0x21).
            XCTAssertEqual(outcome.stdout, "256 257 33\n")
        }
    }

    func testBadTokenizerJSONNamesTheFile() throws {
        let directory = folder.appendingPathComponent("bad")
        try writeTokenizerJSON(in: directory, model: #""type": "WordPiece""#)
        let outcome = try BipExecutable.run(["tokenize", "--model", directory.path, "--text", "hi"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("error: \(directory.appendingPathComponent("tokenizer.json").path): "), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("'WordPiece'"), outcome.stderr)
    }
}
