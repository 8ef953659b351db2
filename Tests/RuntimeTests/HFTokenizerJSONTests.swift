import Foundation
import TestSupport
import XCTest
@testable import Runtime

/// tokenizer.json files built here, independently of bip's own writer, from the GGUF fixture
/// vocabularies (checked against the same reference ids as the GGUF tokenizers) and from
/// miniature vocabularies whose ids are worked out by hand.
final class HFTokenizerJSONTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("tokjson")
    }

    /// A vocabulary as tokenizer.json writes it. Not a `[String: Int]`: Swift dictionaries
    /// merge canonically equivalent keys, and LLaMA has such tokens.
    private struct Vocab {
        var entries: [(String, Int)] = []
        mutating func add(_ token: String, _ id: Int) { entries.append((token, id)) }
    }

    /// Test JSON as `OrderedJSON` (object keys sorted; a `Vocab` keeps its order).
    private func json(_ value: Any) -> OrderedJSON {
        switch value {
        case is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .number(Double(number))
        case let number as Double: return .number(number)
        case let text as String: return .string(text)
        case let vocab as Vocab: return .object(vocab.entries.map { ($0.0, .number(Double($0.1))) })
        case let items as [Any]: return .array(items.map(json))
        case let object as [String: Any]: return .object(object.keys.sorted().map { ($0, json(object[$0]!)) })
        default: fatalError("no JSON for \(value)")
        }
    }

    /// Writes `tokenizer` as `name/tokenizer.json` (and `config` as tokenizer_config.json
    /// beside it) and returns the tokenizer.json path.
    @discardableResult
    private func write(_ tokenizer: [String: Any], config: [String: Any]? = nil, name: String = "t") throws -> String {
        let directory = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("tokenizer.json").path
        try Data(json(tokenizer).serialized()).write(to: URL(fileURLWithPath: path))
        if let config {
            try Data(json(config).serialized()).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        }
        return path
    }

    private func bpe(vocab: Vocab, merges: [Any], byteFallback: Bool, extra: [String: Any] = [:]) -> [String: Any] {
        ["type": "BPE", "dropout": NSNull(), "unk_token": byteFallback ? "<unk>" as Any : NSNull(),
         "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(), "fuse_unk": byteFallback,
         "byte_fallback": byteFallback, "vocab": vocab, "merges": merges].merging(extra) { $1 }
    }

    private func added(_ id: Int, _ content: String, special: Bool = true) -> [String: Any] {
        ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
         "normalized": !special, "special": special]
    }

    private static let legacyNormalizer: [String: Any] = ["type": "Sequence", "normalizers": [
        ["type": "Prepend", "prepend": "▁"],
        ["type": "Replace", "pattern": ["String": " "], "content": "▁"],
    ]]

    private static func byteLevel(useRegex: Bool) -> [String: Any] {
        ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": useRegex]
    }

    private static let bosTemplate: [String: Any] = ["type": "TemplateProcessing",
        "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]]]

    // MARK: the LLaMA vocabulary as tokenizer.json

    /// The LLaMA-SPM GGUF as HF's LLaMA converter lays it out: the legacy normalizer, and
    /// merges of every pair of text tokens that makes a text token, by the made token's score.
    private func llamaJSON() throws -> (path: String, fixture: VocabTestFixture) {
        let fixture = try VocabTestFixture("fixtures/llama-spm/ggml-vocab-llama-spm.gguf")
        let gguf = try GGUFFile(path: fixture.vocabulary.path)
        let tokens = try XCTUnwrap(gguf.metadata["tokenizer.ggml.tokens"]?.strings)
        let scores = try XCTUnwrap(gguf.metadata["tokenizer.ggml.scores"]?.floats)
        let types = try XCTUnwrap(gguf.metadata["tokenizer.ggml.token_type"]?.ints)
        var vocab = Vocab()
        var ids: [[UInt8]: Int] = [:]
        for (id, token) in tokens.enumerated() {
            vocab.add(token, id)
            ids[Array(token.utf8)] = id
        }
        let isText = types.map { $0 == 1 }
        var merges: [(score: Float, made: Int, left: Int, line: String)] = []
        for (id, token) in tokens.enumerated() where isText[id] {
            let scalars = Array(token.unicodeScalars)
            for cut in scalars.indices.dropFirst() {
                let left = String(String.UnicodeScalarView(scalars[..<cut]))
                let right = String(String.UnicodeScalarView(scalars[cut...]))
                if let l = ids[Array(left.utf8)], let r = ids[Array(right.utf8)], isText[l], isText[r] {
                    merges.append((scores[id], id, l, "\(left) \(right)"))
                }
            }
        }
        merges.sort { ($0.score, -$0.made, -$0.left) > ($1.score, -$1.made, -$1.left) }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
            "normalizer": Self.legacyNormalizer, "pre_tokenizer": NSNull(), "post_processor": Self.bosTemplate,
            "decoder": NSNull(), "model": bpe(vocab: vocab, merges: merges.map(\.line), byteFallback: true),
        ]
        return (try write(json, config: ["bos_token": "<s>", "eos_token": ["content": "</s>"], "add_bos_token": true]), fixture)
    }

    func testEveryLlamaCaseMatchesThroughTokenizerJSON() throws {
        let (path, fixture) = try llamaJSON()
        let tokenizer = try XCTUnwrap(try TokenizerLoader.load(path: path) as? SentencePieceBPETokenizer)
        XCTAssertEqual(fixture.cases.count, 46)
        for testCase in fixture.cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: false)
            XCTAssertEqual(ids, testCase.ids, "encoding \(testCase.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), testCase.text)
        }
        XCTAssertEqual(tokenizer.vocabularySize, 32000)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertEqual(tokenizer.unknownID, 0)
        XCTAssertTrue(tokenizer.addsBOS)
        XCTAssertEqual(tokenizer.encode("<s>Hi", parseSpecial: true), [1] + tokenizer.encode("Hi", parseSpecial: false))
    }

    // MARK: a GGUF byte-level vocabulary (SmolLM2's layout, the tiny model's tokens) as tokenizer.json

    /// The tiny model's vocabulary: its tokenizer.json gives the GGUF tokenizer's ids. (The real
    /// SmolLM2 vocabulary is checked against its reference ids in `RealModelTests`.)
    func testTinyModelsVocabularyMatchesThroughTokenizerJSON() throws {
        let gguf = try TinyModel.gguf()
        let tokens = try XCTUnwrap(gguf.metadata["tokenizer.ggml.tokens"]?.strings)
        let types = try XCTUnwrap(gguf.metadata["tokenizer.ggml.token_type"]?.ints)
        let merges = try XCTUnwrap(gguf.metadata["tokenizer.ggml.merges"]?.strings)
        var vocab = Vocab()
        for (id, token) in tokens.enumerated() { vocab.add(token, id) }
        let json: [String: Any] = [
            "added_tokens": tokens.indices.filter { types[$0] == 3 }.map { added($0, tokens[$0]) },
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true], Self.byteLevel(useRegex: true)]],
            "post_processor": Self.byteLevel(useRegex: true), "decoder": Self.byteLevel(useRegex: true),
            // Merges as [left, right] pairs, the newer tokenizer.json form.
            "model": bpe(vocab: vocab, merges: merges.map { $0.split(separator: " ").map(String.init) }, byteFallback: false,
                         extra: ["ignore_merges": false]),
        ]
        let path = try write(json, config: ["bos_token": "<|im_start|>", "eos_token": "<|im_end|>"])
        let tokenizer = try XCTUnwrap(try TokenizerLoader.load(path: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            as? ByteLevelBPETokenizer)
        XCTAssertEqual(tokenizer.preTokenizer, .smollm)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertFalse(tokenizer.addsBOS)
        let reference = try ByteLevelBPETokenizer(gguf: gguf)
        let texts = ["The theory of 1234 things, and 56 others.", "  spaces\tand\r\nlines\n\n", "naïve café 日本語 😀",
                     "don't we'll", "<|im_start|>user<|im_end|>"]
        for text in texts {
            for special in [false, true] {
                let ids = tokenizer.encode(text, parseSpecial: special)
                XCTAssertEqual(ids, reference.encode(text, parseSpecial: special), "encoding \(text.debugDescription)")
                XCTAssertEqual(tokenizer.decode(ids), text)
            }
        }
        XCTAssertEqual(tokenizer.encode("<|im_start|>the", parseSpecial: true).first, 1)
        XCTAssertLessThan(tokenizer.encode(" the and", parseSpecial: false).count, " the and".utf8.count, "merges apply")
    }

    // MARK: miniature byte-level vocabularies (ids worked out by hand)

    /// The 256 byte symbols as ids 0…255 (so a byte's id is its value), then "12" 256, "hi"
    /// 257, "Ġhi" 258, and the special token <|end|> 259.
    private func byteLevelJSON(preTokenizer: [String: Any], normalizer: Any = NSNull(), ignoreMerges: Bool? = nil) -> [String: Any] {
        var vocab = Vocab()
        for (byte, scalar) in ByteUnicodeMap.scalarForByte.enumerated() { vocab.add(String(scalar), byte) }
        vocab.add("12", 256)
        vocab.add("hi", 257)
        vocab.add("Ġhi", 258)
        vocab.add("<|end|>", 259)
        return ["added_tokens": [added(259, "<|end|>")], "normalizer": normalizer, "pre_tokenizer": preTokenizer,
                "model": bpe(vocab: vocab, merges: ["1 2", "h i", "Ġ hi"], byteFallback: false,
                             extra: ignoreMerges.map { ["ignore_merges": $0] } ?? [:])]
    }

    private func splitBy(_ pattern: String) -> [String: Any] {
        ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false],
            Self.byteLevel(useRegex: false)]]
    }

    private static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    private static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    func testGPT2ByteLevelLayout() throws {
        let tokenizer = try XCTUnwrap(try TokenizerLoader.load(path: write(byteLevelJSON(preTokenizer: Self.byteLevel(useRegex: true))))
            as? ByteLevelBPETokenizer)
        XCTAssertEqual(tokenizer.preTokenizer, .gpt2)
        // "hi", " hi" ("Ġ h i": "h i" first, then "Ġ hi"), "12" in one piece.
        XCTAssertEqual(tokenizer.encode("hi hi 12", parseSpecial: false), [257, 258, 32, 256])
        XCTAssertEqual(tokenizer.encode("hi<|end|>", parseSpecial: true), [257, 259])
        XCTAssertNil(tokenizer.bosID)
        XCTAssertFalse(tokenizer.addsBOS)
    }

    func testQwen2AndLlama3SplitLayouts() throws {
        let qwen2 = try XCTUnwrap(try TokenizerLoader.load(path: write(byteLevelJSON(preTokenizer: splitBy(Self.qwen2Pattern)), name: "q"))
            as? ByteLevelBPETokenizer)
        XCTAssertEqual(qwen2.preTokenizer, .qwen2)
        // Digits are pieces of their own, so "1 2" cannot merge.
        XCTAssertEqual(qwen2.encode("12", parseSpecial: false), [49, 50])
        let llama3 = try XCTUnwrap(try TokenizerLoader.load(path: write(byteLevelJSON(preTokenizer: splitBy(Self.llama3Pattern),
                                                                                       ignoreMerges: true), name: "l"))
            as? ByteLevelBPETokenizer)
        XCTAssertEqual(llama3.preTokenizer, .llamaBPE)
        XCTAssertEqual(llama3.encode("12", parseSpecial: false), [256])
    }

    func testNFCNormalizer() throws {
        let nfc = try XCTUnwrap(try TokenizerLoader.load(path: write(byteLevelJSON(preTokenizer: splitBy(Self.qwen2Pattern),
                                                                                    normalizer: ["type": "NFC"]), name: "n"))
            as? ByteLevelBPETokenizer)
        XCTAssertTrue(nfc.appliesNFC)
        // "e" + U+0301 is composed to "é" (C3 A9) first; without NFC it stays e, CC 81.
        XCTAssertEqual(nfc.encode("e\u{301}", parseSpecial: false), [0xC3, 0xA9])
        let plain = try TokenizerLoader.load(path: write(byteLevelJSON(preTokenizer: splitBy(Self.qwen2Pattern)), name: "p"))
        XCTAssertEqual(plain.encode("e\u{301}", parseSpecial: false), [0x65, 0xCC, 0x81])
    }

    // MARK: miniature SentencePiece vocabularies

    /// <unk> 0, <s> 1, </s> 2, <0x00>…<0xFF> 3…258, "▁" 259, "a" 260, "b" 261, "ab" 262,
    /// "▁a" 263; merges "a b" before "▁ a".
    private func sentencePieceJSON(normalizer: Any, preTokenizer: Any, postProcessor: Any = NSNull()) -> [String: Any] {
        var vocab = Vocab(entries: [("<unk>", 0), ("<s>", 1), ("</s>", 2)])
        for byte in 0..<256 { vocab.add(String(format: "<0x%02X>", byte), 3 + byte) }
        for (offset, token) in ["▁", "a", "b", "ab", "▁a"].enumerated() { vocab.add(token, 259 + offset) }
        return ["added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")], "normalizer": normalizer,
                "pre_tokenizer": preTokenizer, "post_processor": postProcessor,
                "model": bpe(vocab: vocab, merges: ["a b", "▁ a"], byteFallback: true)]
    }

    func testSentencePieceLayouts() throws {
        let legacy = try XCTUnwrap(try TokenizerLoader.load(path: write(sentencePieceJSON(
            normalizer: Self.legacyNormalizer, preTokenizer: NSNull(), postProcessor: Self.bosTemplate), name: "legacy"))
            as? SentencePieceBPETokenizer)
        XCTAssertEqual(legacy.spacePrefix, .everySegment)
        // "▁ab": "a b" is ranked first, and nothing joins "▁" with "ab".
        XCTAssertEqual(legacy.encode("ab", parseSpecial: false), [259, 262])
        XCTAssertEqual(legacy.encode("<s>a", parseSpecial: true), [1, 263])
        XCTAssertEqual(legacy.encode("é", parseSpecial: false), [259, 3 + 0xC3, 3 + 0xA9])
        // No tokenizer_config.json: the post-processor's template adds <s>.
        XCTAssertTrue(legacy.addsBOS)
        XCTAssertEqual(legacy.bosID, 1)
        XCTAssertNil(legacy.eosID)

        let metaspace: [String: Any] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false]
        let first = try XCTUnwrap(try TokenizerLoader.load(path: write(sentencePieceJSON(normalizer: NSNull(), preTokenizer: metaspace),
                                                                       config: ["add_bos_token": false, "bos_token": "<s>"], name: "first"))
            as? SentencePieceBPETokenizer)
        XCTAssertEqual(first.spacePrefix, .metaspace(firstSegmentOnly: true))
        XCTAssertEqual(first.encode("<s>a", parseSpecial: true), [1, 260])
        XCTAssertEqual(first.encode("a", parseSpecial: false), [263])
        // Metaspace adds no "▁" where the text already starts with a space; the legacy layout does.
        XCTAssertEqual(first.encode(" a", parseSpecial: false), [263])
        XCTAssertEqual(legacy.encode(" a", parseSpecial: false), [259, 263])
        XCTAssertFalse(first.addsBOS)
        XCTAssertEqual(first.bosID, 1)
    }

    // MARK: the JSON reader

    func testOrderedJSONKeepsEquivalentKeysAndEscapes() throws {
        let text = #"{"\u00e9": 1, "e\u0301": 2.5, "q\"\\/": ["\ud83d\ude00\n\t", true, null, -3e2]}"#
        let value = try OrderedJSON.parse(Array(text.utf8))
        let members = try XCTUnwrap(value.members)
        XCTAssertEqual(members.map { Array($0.key.unicodeScalars) }, [["\u{E9}"], ["e", "\u{301}"], ["q", "\"", "\\", "/"]])
        XCTAssertEqual(value["\u{E9}"]?.int, 1)
        // The decomposed spelling is its own key.
        guard case .number(let decomposed) = value["e\u{301}"] else { return XCTFail("no number for e + U+0301") }
        XCTAssertEqual(decomposed, 2.5)
        let items = try XCTUnwrap(value["q\"\\/"]?.array)
        XCTAssertEqual(items[0].string, "😀\n\t")
        XCTAssertEqual(items[1].bool, true)
        XCTAssertTrue(items[2].isNull)
        XCTAssertEqual(items[3].int, -300)
        // Writing and reading again gives the same text.
        XCTAssertEqual(try OrderedJSON.parse(value.serialized()).serialized(), value.serialized())
        for bad in ["{\"a\": }", "[1, 2", "\"\\ud83d\"", "{\"a\": 1} x"] {
            XCTAssertThrowsError(try OrderedJSON.parse(Array(bad.utf8)), bad)
        }
    }

    // MARK: bad files

    private func assertError(_ path: String, file expectedFile: String? = nil, mentions expected: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TokenizerLoader.load(path: path), file: file, line: line) { error in
            guard let error = error as? FileError else { return XCTFail("not a FileError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, expectedFile ?? path, file: file, line: line)
            XCTAssertTrue(error.problem.contains(expected), "'\(error.problem)' should mention \(expected)", file: file, line: line)
        }
    }

    func testBadFilesAreErrorsNamingTheFile() throws {
        let good = byteLevelJSON(preTokenizer: Self.byteLevel(useRegex: true))
        let malformed = folder.appendingPathComponent("malformed.json").path
        try Data("{\"model\": {\"type\": \"BPE\",".utf8).write(to: URL(fileURLWithPath: malformed))
        assertError(malformed, mentions: "not valid JSON")

        var unigram = good
        unigram["model"] = ["type": "Unigram", "vocab": [["a", -1.0]]]
        assertError(try write(unigram, name: "unigram"), mentions: "'Unigram'")

        var noVocab = good
        noVocab["model"] = ["type": "BPE", "merges": [String]()]
        assertError(try write(noVocab, name: "novocab"), mentions: "model.vocab")

        var noMerges = good
        noMerges["model"] = ["type": "BPE", "vocab": Vocab(entries: [("a", 0)])]
        noMerges["added_tokens"] = [Any]()
        assertError(try write(noMerges, name: "nomerges"), mentions: "model.merges")

        assertError(try write(byteLevelJSON(preTokenizer: splitBy(#"\p{L}+|\s+"#)), name: "regex"), mentions: "unknown Split pattern")
        assertError(try write(byteLevelJSON(preTokenizer: ["type": "Whitespace"]), name: "whitespace"), mentions: "unsupported pre-tokenizer")
        assertError(try write(byteLevelJSON(preTokenizer: Self.byteLevel(useRegex: true), ignoreMerges: true), name: "ignore"),
                    mentions: "ignore_merges")

        var gap = good
        gap["added_tokens"] = [added(300, "<|far|>")]
        assertError(try write(gap, name: "gap"), mentions: "no token has id 260")

        var badMerge = good
        badMerge["model"] = bpe(vocab: Vocab(entries: [("a", 0)]), merges: ["a"], byteFallback: false)
        badMerge["added_tokens"] = [Any]()
        assertError(try write(badMerge, name: "badmerge"), mentions: "model.merges[0]")

        let badConfig = try write(good, config: ["bos_token": "<nope>"], name: "badconfig")
        let configPath = URL(fileURLWithPath: badConfig).deletingLastPathComponent().appendingPathComponent("tokenizer_config.json").path
        assertError(badConfig, file: configPath, mentions: "'<nope>'")

        let split: [String: Any] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true]
        assertError(try write(sentencePieceJSON(normalizer: NSNull(), preTokenizer: split), name: "split"), mentions: "byte-fallback")

        let empty = folder.appendingPathComponent("empty-directory").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertError(empty, mentions: "tokenizer.json")
        assertError(folder.appendingPathComponent("missing.json").path, mentions: "no such file")
    }
}
