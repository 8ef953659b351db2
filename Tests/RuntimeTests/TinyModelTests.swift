import Foundation
import Runtime
@testable import TestSupport
import XCTest

/// The tiny model the mechanics tests run on: the same bytes on every write, the shapes it
/// promises, and a vocabulary that encodes the data sets' text and gives it back.
final class TinyModelTests: XCTestCase {
    func testTheFileIsTheSameBytesEveryTime() throws {
        let written = try Data(contentsOf: URL(fileURLWithPath: TinyModel.path()))
        XCTAssertEqual([UInt8](written), TinyModel.file().bytes())
        XCTAssertEqual(SHA256.hex(of: written), "1ded7f9b998a364a01357c1a330a644a88b57123116534cc182777fc81879de2")
    }

    func testShapesAndSpecialTokens() throws {
        let loaded = try TinyModel.loaded()
        let model = loaded.model
        XCTAssertEqual(model.config.architecture, "llama")
        XCTAssertEqual(model.config.hiddenSize, 64)
        XCTAssertEqual(model.config.vocabularySize, 296)
        XCTAssertEqual(model.layers.count, 4)
        for layer in model.layers {
            XCTAssertEqual(layer.kvHeadOfQueryHead, [0, 0, 1, 1])
            XCTAssertEqual(layer.headDim, 16)
            XCTAssertEqual(layer.ffnWidth, 128)
            XCTAssertNil(layer.qkv.bias)
        }
        XCTAssertNil(model.lmHead, "the head is tied to the embedding")
        XCTAssertEqual(loaded.tokenizer.bosID, 1)
        XCTAssertEqual(loaded.tokenizer.eosID, 2)
        XCTAssertEqual(loaded.tokenizer.encode("<|im_start|>the<|im_end|>", parseSpecial: true).first, 1)
        XCTAssertEqual(loaded.tokenizer.encode("<|im_start|>the<|im_end|>", parseSpecial: true).last, 2)
    }

    func testEveryDataSetsTextEncodesAndDecodes() throws {
        let tokenizer = try TinyModel.loaded().tokenizer
        let data = try TestModel.dataDirectory()
        for file in ["wikitext2/wikitext-2-raw-v1.test.joined.txt", "ptb/ptb.test.txt", "c4/c4-en-train.00000-of-01024.first1000.jsonl",
                     "boolq/val.jsonl", "piqa/valid.jsonl", "hellaswag/hellaswag_val.jsonl", "winogrande/winogrande_xl_validation.jsonl",
                     "arc/ARC-Easy-Test.jsonl", "arc/ARC-Challenge-Test.jsonl", "openbookqa/test.jsonl"] {
            let url = data.appendingPathComponent(file)
            let text = String(try String(contentsOf: url, encoding: .utf8).prefix(20_000))
            let ids = tokenizer.encode(text, parseSpecial: false)
            XCTAssertTrue(ids.allSatisfy { (3..<296).contains($0) }, file)
            XCTAssertLessThan(ids.count, text.utf8.count, "\(file): merges apply")
            XCTAssertEqual(tokenizer.decode(ids), text, file)
        }
    }
}
