import Foundation
import TestSupport
import XCTest
@testable import Runtime

final class SentencePieceTokenizerTests: XCTestCase {
    /// The LLaMA-1/2 vocabulary fixture and its reference tokenizations, loaded once.
    private static let fixtureResult = Result { try VocabTestFixture("fixtures/llama-spm/ggml-vocab-llama-spm.gguf") }
    private static let llamaResult = Result {
        try SentencePieceBPETokenizer(gguf: GGUFFile(path: fixtureResult.get().vocabulary.path))
    }

    // MARK: the LLaMA vocabulary

    func testFixtureHas46CasesWithTheirEdgeWhitespace() throws {
        let cases = try Self.fixtureResult.get().cases
        XCTAssertEqual(cases.count, 46)
        XCTAssertEqual(cases[0].text, "ied 4 ½ months")
        XCTAssertTrue(cases.contains { $0.text == "" && $0.ids.isEmpty })
        XCTAssertTrue(cases.contains { $0.text == "   " })
        XCTAssertTrue(cases.contains { $0.text == "\n\n\n" })
    }

    func testEveryLlamaCaseMatchesExactly() throws {
        let tokenizer = try Self.llamaResult.get()
        for testCase in try Self.fixtureResult.get().cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: false)
            XCTAssertEqual(ids, testCase.ids, "encoding \(testCase.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), testCase.text, "decoding \(testCase.text.debugDescription)")
        }
    }

    func testLlamaMetadata() throws {
        let tokenizer = try Self.llamaResult.get()
        XCTAssertEqual(tokenizer.vocabularySize, 32000)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertEqual(tokenizer.unknownID, 0)
        XCTAssertTrue(tokenizer.addsBOS)
        XCTAssertEqual(tokenizer.spacePrefix, .everySegment)
    }

    func testLoaderPicksTheSentencePieceTokenizerForAVocabularyOnlyGGUF() throws {
        let path = try Self.fixtureResult.get().vocabulary.path
        let tokenizer = try TokenizerLoader.load(path: path)
        XCTAssertTrue(tokenizer is SentencePieceBPETokenizer)
        XCTAssertEqual(tokenizer.encode("Hello world", parseSpecial: false), try Self.llamaResult.get().encode("Hello world", parseSpecial: false))
    }

    func testLlamaControlTokensOnlyWithParseSpecial() throws {
        let tokenizer = try Self.llamaResult.get()
        let hello = tokenizer.encode("Hello", parseSpecial: false)
        // The text after a special token gets the dummy prefix again, as in llama.cpp.
        XCTAssertEqual(tokenizer.encode("<s>Hello</s>", parseSpecial: true), [1] + hello + [2])
        let plain = tokenizer.encode("<s>Hello", parseSpecial: false)
        XCTAssertFalse(plain.contains(1))
        XCTAssertEqual(tokenizer.decode(plain), "<s>Hello")
        XCTAssertEqual(tokenizer.decode([1, 2]), "<s></s>")
    }

    /// Tokenizing the whole WikiText-2 test text with the LLaMA vocabulary and back; the time is
    /// printed (meaningful in release mode).
    func testWikiText2RoundTripsQuickly() throws {
        let tokenizer = try Self.llamaResult.get()
        let text = try String(contentsOf: TestModel.sharedFile("data/wikitext2/wikitext-2-raw-v1.test.joined.txt"), encoding: .utf8)
        let start = Date()
        let ids = tokenizer.encode(text, parseSpecial: false)
        let seconds = Date().timeIntervalSince(start)
        print("WikiText-2 test with the LLaMA vocabulary: \(text.utf8.count) bytes -> \(ids.count) tokens in \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertLessThan(seconds, 60)
    }

    // MARK: a miniature vocabulary (expected ids worked out by hand)

    /// <unk> 0, <s> 1, </s> 2, the byte tokens <0x00>…<0xFF> as 3…258, then `extra`.
    private static let extra: [(String, Float, TokenType)] = [
        ("▁", -10, .normal),    // 259
        ("a", -20, .normal),    // 260
        ("b", -21, .normal),    // 261
        ("c", -22, .normal),    // 262
        ("ab", -5, .normal),    // 263
        ("bc", -3, .normal),    // 264
        ("▁a", -4, .normal),    // 265
        ("aa", -6, .normal),    // 266
        ("▁ab", -2, .normal),   // 267
        ("xy", 0, .userDefined), // 268
    ]

    private func miniature(priority: SentencePieceBPETokenizer.MergePriority? = nil, unknownID: Int? = 0,
                           byteTokens: Range<Int> = 0..<256,
                           spacePrefix: SentencePieceBPETokenizer.SpacePrefix = .everySegment) throws -> SentencePieceBPETokenizer {
        var tokens = ["<unk>", "<s>", "</s>"], types: [TokenType] = [.unknown, .control, .control], scores: [Float] = [0, 0, 0]
        for byte in byteTokens {
            tokens.append(String(format: "<0x%02X>", byte))
            types.append(.byte)
            scores.append(0)
        }
        for (token, score, type) in Self.extra {
            tokens.append(token)
            types.append(type)
            scores.append(score)
        }
        return try SentencePieceBPETokenizer(tokens: tokens, tokenTypes: types.map(\.rawValue), priority: priority ?? .scores(scores),
                                             bosID: 1, eosID: 2, unknownID: unknownID, addsBOS: true, spacePrefix: spacePrefix)
    }

    private func byte(_ value: UInt8) -> Int { 3 + Int(value) }

    func testHighestScoreMergesFirst() throws {
        let tokenizer = try miniature(spacePrefix: .none)
        // "bc" (-3) beats "ab" (-5).
        XCTAssertEqual(tokenizer.encode("abc", parseSpecial: false), [260, 264])
        // "aa" at 0 and at 1 tie: the leftmost merges.
        XCTAssertEqual(tokenizer.encode("aaa", parseSpecial: false), [266, 260])
    }

    func testDummyPrefixAndChainedMerges() throws {
        let tokenizer = try miniature()
        // "▁ab": "▁a" (-4) beats "ab" (-5), then "▁a"+"b" makes "▁ab".
        XCTAssertEqual(tokenizer.encode("ab", parseSpecial: false), [267])
        XCTAssertEqual(tokenizer.decode([267]), "ab")
        XCTAssertEqual(tokenizer.encode("", parseSpecial: false), [])
        XCTAssertEqual(tokenizer.encode(" ", parseSpecial: false), [259, 259])
        XCTAssertEqual(tokenizer.decode([259, 259]), " ")
    }

    func testUnknownCharactersFallBackToBytes() throws {
        let tokenizer = try miniature()
        // "▁a▁é": "é" is not a piece, so its two UTF-8 bytes are byte tokens.
        let ids = tokenizer.encode("a é", parseSpecial: false)
        XCTAssertEqual(ids, [265, 259, byte(0xC3), byte(0xA9)])
        XCTAssertEqual(tokenizer.decode(ids), "a é")
        // Without a byte token for 0xC3 that byte becomes <unk> ("▁" is 3 + 0xC0 here).
        let partial = try miniature(byteTokens: 0..<0xC0)
        XCTAssertEqual(partial.encode("é", parseSpecial: false), [3 + 0xC0, 0, byte(0xA9)])
    }

    func testMergeRanksDecideInsteadOfScores() throws {
        let merges: [(left: String, right: String)] = [("a", "b"), ("b", "c"), ("▁", "a"), ("▁a", "b"), ("a", "a")]
        let tokenizer = try miniature(priority: .mergeRanks(merges), spacePrefix: .none)
        // "a b" is ranked first, so "abc" is "ab" + "c" here (by scores it was "a" + "bc").
        XCTAssertEqual(tokenizer.encode("abc", parseSpecial: false), [263, 262])
        XCTAssertEqual(tokenizer.encode("aaa", parseSpecial: false), [266, 260])
        // "▁ab": "a b" goes before "▁ a", and no merge joins "▁" with "ab".
        XCTAssertEqual(try miniature(priority: .mergeRanks(merges)).encode("ab", parseSpecial: false), [259, 263])
    }

    func testSpecialAndUserDefinedTokens() throws {
        let every = try miniature(), first = try miniature(spacePrefix: .metaspace(firstSegmentOnly: true))
        XCTAssertEqual(every.encode("<s>a", parseSpecial: true), [1, 265])
        XCTAssertEqual(first.encode("<s>a", parseSpecial: true), [1, 260])
        // Without parseSpecial "<s>" is text: none of its characters is a piece.
        XCTAssertEqual(every.encode("<s>a", parseSpecial: false), [259, byte(0x3C), byte(0x73), byte(0x3E), 260])
        // A user-defined token is matched either way.
        XCTAssertEqual(every.encode("axy", parseSpecial: false), [265, 268])
        XCTAssertEqual(every.encode("axya", parseSpecial: false), [265, 268, 265])
        XCTAssertEqual(first.encode("axya", parseSpecial: false), [265, 268, 260])
    }

    func testMetaspaceAddsNoPrefixBeforeALeadingSpace() throws {
        // The dummy prefix always adds "▁"; Metaspace only where the text does not start with one.
        XCTAssertEqual(try miniature().encode(" a", parseSpecial: false), [259, 265])
        let always = try miniature(spacePrefix: .metaspace(firstSegmentOnly: false))
        XCTAssertEqual(always.encode(" a", parseSpecial: false), [265])
        XCTAssertEqual(always.encode("a", parseSpecial: false), [265])
        XCTAssertEqual(always.encode("<s>a", parseSpecial: true), [1, 265])
        XCTAssertEqual(always.encode("<s> a", parseSpecial: true), [1, 265])
    }

    // MARK: errors

    func testMissingByteTokensWithoutUnknownIsAnError() {
        XCTAssertThrowsError(try miniature(unknownID: nil, byteTokens: 0..<200)) { error in
            XCTAssertTrue("\(error)".contains("<0xC8>"), "\(error)")
        }
    }

    func testMergeOutsideTheVocabularyIsAnError() {
        XCTAssertThrowsError(try miniature(priority: .mergeRanks([("b", "a")]))) { error in
            XCTAssertTrue("\(error)".contains("merge 0"), "\(error)")
        }
    }

    private func writeGGUF(model: String = "llama", omitting omitted: String? = nil) throws -> String {
        var writer = GGUFWriterForTests()
        let tokens = ["<unk>", "a", "b", "ab"] + (0..<256).map { String(format: "<0x%02X>", $0) }
        let entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string(model)),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(tokens.indices.map { .float32($0 == 3 ? -1 : -10) })),
            ("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 == 0 ? 2 : $0 < 4 ? 1 : 6) })),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]
        writer.metadata = entries.filter { $0.0 != omitted }.map { .value($0.0, $0.1) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bip-spm-\(UUID().uuidString).gguf").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try writer.write(to: path)
    }

    func testSmallGGUFLoadsWithoutSpacePrefix() throws {
        let tokenizer = try SentencePieceBPETokenizer(gguf: GGUFFile(path: writeGGUF()))
        XCTAssertEqual(tokenizer.encode("ab a", parseSpecial: false), [3, 4 + 0xE2, 4 + 0x96, 4 + 0x81, 1])
        XCTAssertFalse(tokenizer.addsBOS)
        XCTAssertNil(tokenizer.bosID)
        XCTAssertEqual(tokenizer.spacePrefix, .none)
    }

    func testGGUFErrorsNameTheFileAndTheProblem() throws {
        for (path, expected) in [(try writeGGUF(model: "gpt2"), "'gpt2'"),
                                 (try writeGGUF(omitting: "tokenizer.ggml.scores"), "tokenizer.ggml.scores")] {
            XCTAssertThrowsError(try SentencePieceBPETokenizer(gguf: GGUFFile(path: path))) { error in
                guard let error = error as? FileError else { return XCTFail("not a FileError: \(error)") }
                XCTAssertEqual(error.file, path)
                XCTAssertTrue(error.problem.contains(expected), error.problem)
            }
        }
        XCTAssertThrowsError(try TokenizerLoader.load(gguf: GGUFFile(path: writeGGUF(model: "bert")))) { error in
            XCTAssertTrue("\(error)".contains("'bert'"), "\(error)")
        }
    }
}
