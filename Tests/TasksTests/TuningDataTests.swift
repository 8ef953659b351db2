import Foundation
import Runtime
import Tasks
import TestSupport
import XCTest

final class TuningDataTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("tuning-data")
    }

    func testAlpacaExamplesPredictTheResponseAndEOS() throws {
        let tokenizer = try TinyModel.loaded().tokenizer
        let file = folder.appendingPathComponent("a.jsonl")
        try """
        {"instruction": "Name a colour.", "input": "", "output": "Blue."}
        {"instruction": "Translate.", "input": "chat", "output": "cat"}
        """.write(to: file, atomically: true, encoding: .utf8)
        let data = try TuningData.alpaca(path: file.path, tokenizer: tokenizer, cutoff: 256)
        XCTAssertEqual(data.examples.count, 2)
        for (example, (instruction, input, output)) in zip(data.examples, [("Name a colour.", "", "Blue."), ("Translate.", "chat", "cat")]) {
            let prompt = TuningData.alpacaPrompt(instruction: instruction, input: input)
            XCTAssertEqual(tokenizer.decode(Array(example.tokens[..<example.responseStart])), prompt)
            XCTAssertEqual(example.tokens.last, tokenizer.eosID)
            XCTAssertEqual(tokenizer.decode(Array(example.tokens[example.responseStart..<(example.tokens.count - 1)])), output)
        }
        XCTAssertTrue(TuningData.alpacaPrompt(instruction: "I", input: "X").contains("### Input:\nX\n\n### Response:\n"))
        // Cut at the cutoff: no EOS then.
        let cut = try TuningData.alpaca(path: file.path, tokenizer: tokenizer, cutoff: 10)
        XCTAssertTrue(cut.examples.allSatisfy { $0.tokens.count == 10 && $0.responseStart == 10 })
    }

    func testC4ExamplesAndTheHeldOutSplit() throws {
        let tokenizer = try TinyModel.loaded().tokenizer
        let data = try TuningData.c4(data: DataDirectory(url: try TestModel.dataDirectory()),
                                     file: "c4/c4-en-train.00000-of-01024.first1000.jsonl", tokenizer: tokenizer, cutoff: 64)
        XCTAssertEqual(data.examples.count, 1000)
        XCTAssertTrue(data.examples.allSatisfy { $0.tokens.count <= 64 && $0.responseStart == 0 })
        let split = data.split(heldOut: 2000, seed: 0)
        XCTAssertEqual(split.heldOut.count, 100, "at most a tenth")
        XCTAssertEqual(split.training.count, 900)
        XCTAssertEqual(data.split(heldOut: 2000, seed: 0).heldOut, split.heldOut, "seeded")
        XCTAssertNotEqual(data.split(heldOut: 2000, seed: 1).heldOut, split.heldOut)
    }
}
