import Foundation
import TestSupport
import XCTest
@testable import Runtime

final class TokenizerTests: XCTestCase {
    // MARK: pre-tokenizers (expected pieces derived by hand from each pattern)

    private func assertPieces(_ preTokenizer: PreTokenizer, _ text: String, _ expected: [String],
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(preTokenizer.pieces(of: text), expected, "\(preTokenizer) on \(text.debugDescription)",
                       file: file, line: line)
    }

    func testGPT2Pattern() {
        assertPieces(.gpt2, "Hello world", ["Hello", " world"])
        // Contractions are lower case only; "'LL" is punctuation then letters.
        assertPieces(.gpt2, "don't I'm we'LL it'S", ["don", "'t", " I", "'m", " we", "'", "LL", " it", "'", "S"])
        assertPieces(.gpt2, "they're we've he'd", ["they", "'re", " we", "'ve", " he", "'d"])
        // The last space of a run goes with the following word.
        assertPieces(.gpt2, "a   b", ["a", "  ", " b"])
        assertPieces(.gpt2, "end  ", ["end", "  "])
        assertPieces(.gpt2, "  two", [" ", " two"])
        assertPieces(.gpt2, "x\r\ny", ["x", "\r", "\n", "y"])
        assertPieces(.gpt2, "Hello\n\nworld", ["Hello", "\n", "\n", "world"])
        assertPieces(.gpt2, "\t\tfoo", ["\t", "\t", "foo"])
        assertPieces(.gpt2, "12345 abc", ["12345", " abc"])
        assertPieces(.gpt2, "x = 3.14;", ["x", " =", " 3", ".", "14", ";"])
        assertPieces(.gpt2, "naïve café", ["naïve", " café"])
        assertPieces(.gpt2, "日本語のテキスト", ["日本語のテキスト"])
        assertPieces(.gpt2, "hi 😀👍🏽!", ["hi", " 😀👍🏽!"])
        assertPieces(.gpt2, "", [])
    }

    func testSmolLMPattern() {
        assertPieces(.smollm, "The year 2024 had", ["The", " year", " ", "2", "0", "2", "4", " had"])
        assertPieces(.smollm, "abc123def", ["abc", "1", "2", "3", "def"])
        // The GPT-2 pattern sees "a  " on its own, so the spaces end their piece.
        assertPieces(.smollm, "a  7", ["a", "  ", "7"])
    }

    func testLlama3Pattern() {
        // Contractions in any case.
        assertPieces(.llamaBPE, "don't I'm we'LL it'S", ["don", "'t", " I", "'m", " we", "'LL", " it", "'S"])
        assertPieces(.llamaBPE, "12345", ["123", "45"])
        assertPieces(.llamaBPE, "1234567", ["123", "456", "7"])
        assertPieces(.llamaBPE, "a 12", ["a", " ", "12"])
        assertPieces(.llamaBPE, "3x", ["3", "x"])
        assertPieces(.llamaBPE, "a   b", ["a", "  ", " b"])
        assertPieces(.llamaBPE, "end  ", ["end", "  "])
        // Line breaks end a whitespace piece; punctuation keeps the line breaks after it.
        assertPieces(.llamaBPE, "x\r\ny", ["x", "\r\n", "y"])
        assertPieces(.llamaBPE, "Hello\n\nworld", ["Hello", "\n\n", "world"])
        assertPieces(.llamaBPE, "x  \n y", ["x", "  \n", " y"])
        assertPieces(.llamaBPE, "foo!!\n\nbar", ["foo", "!!\n\n", "bar"])
        // Any one non-letter, non-digit, non-line-break scalar may lead a word.
        assertPieces(.llamaBPE, "\tfoo", ["\tfoo"])
        assertPieces(.llamaBPE, " \tfoo", [" ", "\tfoo"])
        assertPieces(.llamaBPE, "(hello)", ["(hello", ")"])
        assertPieces(.llamaBPE, "a'b", ["a", "'b"])
        assertPieces(.llamaBPE, "naïve 日本語", ["naïve", " 日本語"])
        assertPieces(.llamaBPE, "hi 😀!", ["hi", " 😀!"])
    }

    func testQwen2Pattern() {
        assertPieces(.qwen2, "12345", ["1", "2", "3", "4", "5"])
        assertPieces(.qwen2, "a 12", ["a", " ", "1", "2"])
        assertPieces(.qwen2, "don'T", ["don", "'T"])
        assertPieces(.qwen2, "x\r\ny", ["x", "\r\n", "y"])
        assertPieces(.qwen2, "abc 日本", ["abc", " 日本"])
    }

    // MARK: merging, on a small vocabulary

    /// A vocabulary of the 256 byte tokens followed by `extra` tokens.
    private func smallTokenizer(extra: [String], merges: [String], preTokenizer: PreTokenizer = .gpt2) throws -> ByteLevelBPETokenizer {
        let tokens = ByteUnicodeMap.scalarForByte.map { String($0) } + extra
        return try ByteLevelBPETokenizer(tokens: tokens, merges: merges, tokenTypes: tokens.map { _ in 1 },
                                         bosID: nil, eosID: nil, addsBOS: false, preTokenizer: preTokenizer)
    }

    private func byteID(_ character: Character) -> Int { Int(character.asciiValue!) }

    func testMergesLowestRankFirstAndLeftmostOnTies() throws {
        let tokenizer = try smallTokenizer(extra: ["aa", "bc", "ab"], merges: ["a a", "b c", "a b"])
        XCTAssertEqual(tokenizer.encode("aaa", parseSpecial: false), [256, byteID("a")])
        XCTAssertEqual(tokenizer.encode("abc", parseSpecial: false), [byteID("a"), 257])
        XCTAssertEqual(tokenizer.encode("abab", parseSpecial: false), [258, 258])
    }

    func testSymbolsMissingFromTheVocabularyFallBackToBytes() throws {
        // "xy" is not a token, but merging through it reaches "xyz", which is.
        let tokenizer = try smallTokenizer(extra: ["xyz"], merges: ["x y", "xy z"])
        XCTAssertEqual(tokenizer.encode("xyz", parseSpecial: false), [256])
        XCTAssertEqual(tokenizer.encode("xy", parseSpecial: false), [byteID("x"), byteID("y")])
    }

    func testWholeTokenPiecesSkipMergingForLlama3() throws {
        // The merges cannot build "abc"; LLaMA-3 takes a piece that is a whole token as it is.
        let extra = ["bc", "abc"], merges = ["b c"]
        XCTAssertEqual(try smallTokenizer(extra: extra, merges: merges, preTokenizer: .gpt2)
            .encode("abc", parseSpecial: false), [byteID("a"), 256])
        XCTAssertEqual(try smallTokenizer(extra: extra, merges: merges, preTokenizer: .llamaBPE)
            .encode("abc", parseSpecial: false), [257])
    }

    // MARK: errors

    private func writeTokenizerGGUF(model: String = "gpt2", pre: String = "smollm", omitting omitted: String? = nil) throws -> String {
        var writer = GGUFWriterForTests()
        let entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string(model)),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .array(["a", "b", "ab"].map { .string($0) })),
            ("tokenizer.ggml.merges", .array([.string("a b")])),
            ("tokenizer.ggml.token_type", .array([1, 1, 1].map { .int32($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(0)),
            ("tokenizer.ggml.eos_token_id", .uint32(1)),
        ]
        writer.metadata = entries.filter { $0.0 != omitted }.map { .value($0.0, $0.1) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("bip-tokenizer-\(UUID().uuidString).gguf").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try writer.write(to: path)
    }

    private func assertTokenizerError(_ path: String, mentions expected: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let gguf = try GGUFFile(path: path)
        XCTAssertThrowsError(try ByteLevelBPETokenizer(gguf: gguf), file: file, line: line) { error in
            guard let error = error as? FileError else { return XCTFail("not a FileError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertTrue(error.problem.contains(expected), "'\(error.problem)' should mention \(expected)", file: file, line: line)
        }
    }

    func testSmallGGUFLoads() throws {
        let tokenizer = try ByteLevelBPETokenizer(gguf: GGUFFile(path: writeTokenizerGGUF()))
        XCTAssertEqual(tokenizer.encode("ab", parseSpecial: false), [2])
        XCTAssertFalse(tokenizer.addsBOS)
    }

    func testUnknownPreTokenizerIsAnError() throws {
        try assertTokenizerError(writeTokenizerGGUF(pre: "mystery-pre"), mentions: "'mystery-pre'")
    }

    func testWrongTokenizerModelIsAnError() throws {
        try assertTokenizerError(writeTokenizerGGUF(model: "llama"), mentions: "'llama'")
    }

    func testMissingKeyIsAnError() throws {
        try assertTokenizerError(writeTokenizerGGUF(omitting: "tokenizer.ggml.merges"), mentions: "tokenizer.ggml.merges")
    }

    func testMalformedMergeIsAnError() {
        XCTAssertThrowsError(try smallTokenizer(extra: [], merges: ["nospace"]))
    }
}
