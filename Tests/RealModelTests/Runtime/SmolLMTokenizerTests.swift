import Foundation
import TestSupport
import XCTest
@testable import Runtime

/// The SmolLM2 tokenizer of the real model: exact against the reference ids, directly and through
/// bip's tokenizer.json writer, round trips, special tokens, threads, and WikiText-2's whole text.
final class SmolLMTokenizerTests: XCTestCase {
    /// The SmolLM2 tokenizer from the real model, loaded once.
    private static let smolLMResult = Result { try ByteLevelBPETokenizer(gguf: TestModel.gguf()) }
    private func smolLM() throws -> ByteLevelBPETokenizer { try Self.smolLMResult.get() }

    // MARK: the real vocabulary

    private struct Fixture: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
            let special_tokens: Bool
        }
        let cases: [Case]
    }

    func testEveryFixtureCaseMatchesExactly() throws {
        let tokenizer = try smolLM()
        let url = try TestModel.sharedFile("fixtures/smollm2/tokenizer-cases.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 20)
        XCTAssertEqual(fixture.cases.filter(\.special_tokens).count, 1)
        for testCase in fixture.cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: testCase.special_tokens)
            XCTAssertEqual(ids, testCase.ids, "encoding \(testCase.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), testCase.text)
        }
    }

    func testSmolLMMetadata() throws {
        let tokenizer = try smolLM()
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertFalse(tokenizer.addsBOS)
        XCTAssertEqual(tokenizer.preTokenizer, .smollm)
    }

    func testRoundTrip() throws {
        let tokenizer = try smolLM()
        for text in ["Hello, world!", "naïve café — résumé", "日本語のテキスト", "emoji 😀👍🏽 and 🇫🇷 flags",
                     "  spaces\tand\r\nlines\n\n", "x = 3.14159; y'S 'll", "<|im_start|>user"] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text, parseSpecial: false)), text)
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text, parseSpecial: true)), text)
        }
    }

    func testDecodeReplacesInvalidUTF8() throws {
        let tokenizer = try smolLM()
        // "😀" is four bytes; its first token alone is an incomplete character.
        let ids = tokenizer.encode("😀", parseSpecial: false)
        XCTAssertGreaterThan(ids.count, 1)
        XCTAssertEqual(tokenizer.decode([ids[0]]), "\u{FFFD}")
    }

    func testSpecialTokens() throws {
        let tokenizer = try smolLM()
        let user = tokenizer.encode("user", parseSpecial: false)
        XCTAssertEqual(tokenizer.encode("<|im_start|>user", parseSpecial: true), [1] + user)
        let plain = tokenizer.encode("<|im_start|>user", parseSpecial: false)
        XCTAssertGreaterThan(plain.count, 2)
        XCTAssertFalse(plain.contains(1))
        XCTAssertEqual(tokenizer.decode([1, 2]), "<|im_start|><|im_end|>")
        // Adjacent special tokens, and special tokens at both ends.
        XCTAssertEqual(tokenizer.encode("<|im_end|><|im_start|>", parseSpecial: true), [2, 1])
    }

    func testConcurrentEncodingAgrees() throws {
        let tokenizer = try smolLM()
        let texts = (0..<16).map { "Thread \($0) says: the quick brown fox jumps over 1234 lazy dogs, don't it?" }
        let expected = texts.map { tokenizer.encode($0, parseSpecial: false) }
        let results = Results(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { index in
            results.set(index, tokenizer.encode(texts[index], parseSpecial: false))
        }
        XCTAssertEqual(results.values, expected)
    }

    /// Tokenizing the whole WikiText-2 test text; the time is printed (build in release mode
    /// for a meaningful figure: `swift test -c release -Xswiftc -enable-testing`).
    func testWikiText2TestTokenizesQuickly() throws {
        let tokenizer = try smolLM()
        let url = try TestModel.sharedFile("data/wikitext2/wikitext-2-raw-v1.test.joined.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        let start = Date()
        let ids = tokenizer.encode(text, parseSpecial: false)
        let seconds = Date().timeIntervalSince(start)
        print("WikiText-2 test: \(text.utf8.count) bytes -> \(ids.count) tokens in \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertLessThan(seconds, 60)
    }

    /// The tokenizer written as tokenizer.json by bip's writer and read back gives the same ids.
    func testSmolLMThroughWrittenTokenizerJSON() throws {
        let directory = try temporaryFolder("export")
        try HFTokenizerJSON.write(fromGGUF: TestModel.gguf(), to: directory)
        let tokenizer = try XCTUnwrap(try TokenizerLoader.load(path: directory.path) as? ByteLevelBPETokenizer)
        XCTAssertEqual(tokenizer.preTokenizer, .smollm)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertFalse(tokenizer.addsBOS)
        let url = try TestModel.sharedFile("fixtures/smollm2/tokenizer-cases.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 20)
        for testCase in fixture.cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: testCase.special_tokens)
            XCTAssertEqual(ids, testCase.ids, "encoding \(testCase.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), testCase.text)
        }
    }
}

/// Results written from several threads, each to its own slot.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[Int]]

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ index: Int, _ value: [Int]) { lock.withLock { slots[index] = value } }

    var values: [[Int]] { lock.withLock { slots } }
}
