import Foundation
import TestSupport
import XCTest
@testable import Runtime

/// bip's tokenizer.json writer: a GGUF tokenizer written as tokenizer.json and read back gives
/// the reference ids of the GGUF's own fixtures.
final class HFTokenizerExportTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("export")
    }

    /// Writes the tokenizer of `gguf` into a fresh directory and loads it back from there.
    private func exportAndLoad(_ gguf: GGUFFile, name: String) throws -> any Tokenizer {
        let directory = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try HFTokenizerJSON.write(fromGGUF: gguf, to: directory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer_config.json").path))
        return try TokenizerLoader.load(path: directory.path)
    }

    func testLlamaVocabularyThroughWrittenTokenizerJSON() throws {
        let fixture = try VocabTestFixture("fixtures/llama-spm/ggml-vocab-llama-spm.gguf")
        let gguf = try GGUFFile(path: fixture.vocabulary.path)
        let tokenizer = try XCTUnwrap(try exportAndLoad(gguf, name: "llama") as? SentencePieceBPETokenizer)
        XCTAssertEqual(fixture.cases.count, 46)
        for testCase in fixture.cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: false)
            XCTAssertEqual(ids, testCase.ids, "encoding \(testCase.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), testCase.text)
        }
        let original = try SentencePieceBPETokenizer(gguf: gguf)
        XCTAssertEqual(tokenizer.vocabularySize, original.vocabularySize)
        XCTAssertEqual(tokenizer.bosID, original.bosID)
        XCTAssertEqual(tokenizer.eosID, original.eosID)
        XCTAssertEqual(tokenizer.unknownID, original.unknownID)
        XCTAssertEqual(tokenizer.addsBOS, original.addsBOS)
        XCTAssertEqual(tokenizer.spacePrefix, .everySegment)
        XCTAssertEqual(tokenizer.encode("<s>x</s>", parseSpecial: true), original.encode("<s>x</s>", parseSpecial: true))
    }

    /// A tiny byte-level GGUF vocabulary: the 256 byte symbols, then "12" and "<|bos|>" (control).
    private func byteLevelGGUF(pre: String, addsBOS: Bool) throws -> GGUFFile {
        var writer = GGUFWriterForTests()
        let tokens = ByteUnicodeMap.scalarForByte.map { String($0) } + ["12", "<|bos|>"]
        writer.metadata = [
            .value("tokenizer.ggml.model", .string("gpt2")),
            .value("tokenizer.ggml.pre", .string(pre)),
            .value("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            .value("tokenizer.ggml.merges", .array([.string("1 2")])),
            .value("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 == 257 ? 3 : 1) })),
            .value("tokenizer.ggml.bos_token_id", .uint32(257)),
            .value("tokenizer.ggml.eos_token_id", .uint32(257)),
            .value("tokenizer.ggml.add_bos_token", .bool(addsBOS)),
        ]
        let path = folder.appendingPathComponent("\(pre).gguf").path
        return try GGUFFile(path: writer.write(to: path))
    }

    func testEveryPreTokenizerSurvivesTheRoundTrip() throws {
        // "12": one piece for GPT-2 and LLaMA-3 (merged), two for SmolLM and Qwen2.
        let expected: [PreTokenizer: [Int]] = [.gpt2: [256], .llamaBPE: [256], .smollm: [49, 50], .qwen2: [49, 50]]
        for preTokenizer in PreTokenizer.allCases {
            let gguf = try byteLevelGGUF(pre: preTokenizer.rawValue, addsBOS: preTokenizer == .qwen2)
            let tokenizer = try XCTUnwrap(try exportAndLoad(gguf, name: preTokenizer.rawValue) as? ByteLevelBPETokenizer)
            XCTAssertEqual(tokenizer.preTokenizer, preTokenizer)
            XCTAssertEqual(tokenizer.encode("12", parseSpecial: false), expected[preTokenizer])
            XCTAssertEqual(tokenizer.encode("<|bos|>", parseSpecial: true), [257])
            XCTAssertEqual(tokenizer.addsBOS, preTokenizer == .qwen2)
            XCTAssertEqual(tokenizer.bosID, 257)
        }
    }

    func testUnknownTokenizerModelIsAnError() throws {
        var writer = GGUFWriterForTests()
        writer.metadata = [.value("tokenizer.ggml.model", .string("bert")),
                           .value("tokenizer.ggml.tokens", .array([.string("a")])),
                           .value("tokenizer.ggml.token_type", .array([.int32(1)]))]
        let gguf = try GGUFFile(path: writer.write(to: folder.appendingPathComponent("bert.gguf").path))
        XCTAssertThrowsError(try HFTokenizerJSON.write(fromGGUF: gguf, to: folder)) { error in
            XCTAssertTrue("\(error)".contains("'bert'"), "\(error)")
        }
    }
}
