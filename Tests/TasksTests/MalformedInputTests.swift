import Foundation
import TestSupport
import XCTest
@testable import Tasks

/// Bad records are errors naming file, line and field; never a crash or a skipped document.
final class MalformedInputTests: XCTestCase {
    func load(_ task: String, _ files: [String: String]) throws -> DataError? {
        let temp = try temporaryFolder("malformed")
        for (path, text) in files { try write(text, to: path, in: temp) }
        return dataError { _ = try ZeroShotTask.load(task, from: DataDirectory(url: temp)) }
    }

    let goodBoolQ = #"{"question": "q", "passage": "p", "idx": 0, "label": "true"}"#

    func testBadJSONLine() throws {
        let error = try load("boolq", ["boolq/val.jsonl": goodBoolQ + "\n{\"question\": \n" + goodBoolQ + "\n"])
        XCTAssertEqual(error?.description, "boolq/val.jsonl:2: not a JSON object")
    }

    func testBlankLineInTheMiddle() throws {
        XCTAssertEqual(try load("boolq", ["boolq/val.jsonl": goodBoolQ + "\n\n" + goodBoolQ + "\n"])?.line, 2)
    }

    func testMissingField() throws {
        let error = try load("boolq", ["boolq/val.jsonl": goodBoolQ + "\n" + #"{"question": "q", "label": "false"}"# + "\n"])
        XCTAssertEqual(error, DataError(file: "boolq/val.jsonl", line: 2, field: "passage", problem: "missing"))
    }

    func testBadBoolQLabel() throws {
        let error = try load("boolq", ["boolq/val.jsonl": #"{"question": "q", "passage": "p", "label": 1}"#])
        XCTAssertEqual(error?.description, "boolq/val.jsonl:1: field \"label\": not a string")
    }

    func testPIQALabelFileLength() throws {
        let line = #"{"goal": "g", "sol1": "a", "sol2": "b"}"#
        let error = try load("piqa", ["piqa/valid.jsonl": line + "\n" + line + "\n", "piqa/valid-labels.lst": "0\n"])
        XCTAssertEqual(error?.file, "piqa/valid-labels.lst")
        XCTAssertEqual(error?.problem, "1 labels, expected 2 (one per line of piqa/valid.jsonl)")
    }

    func testPIQALabelOutOfRange() throws {
        let line = #"{"goal": "g", "sol1": "a", "sol2": "b"}"#
        let error = try load("piqa", ["piqa/valid.jsonl": line + "\n" + line + "\n", "piqa/valid-labels.lst": "0\n2\n"])
        XCTAssertEqual(error, DataError(file: "piqa/valid-labels.lst", line: 2, field: "label", problem: "expected 0 or 1, got \"2\""))
    }

    func testHellaSwagLabelOutOfRange() throws {
        let line = #"{"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "label": 4, "endings": ["w", "x", "y", "z"]}"#
        let error = try load("hellaswag", ["hellaswag/hellaswag_val.jsonl": line])
        XCTAssertEqual(error, DataError(file: "hellaswag/hellaswag_val.jsonl", line: 1, field: "label", problem: "4 out of range 0..<4"))
    }

    func testWinograndeWithoutBlank() throws {
        let line = #"{"sentence": "no blank here", "option1": "a", "option2": "b", "answer": "1"}"#
        let error = try load("winogrande", ["winogrande/winogrande_xl_validation.jsonl": line])
        XCTAssertEqual(error?.field, "sentence")
    }

    func testARCAnswerKeyNotAmongLabelsAndNestedField() throws {
        let bad = #"{"question": {"stem": "s", "choices": [{"text": "a", "label": "A"}, {"text": "b", "label": "B"}]}, "answerKey": "C"}"#
        XCTAssertEqual(try load("arc_easy", ["arc/ARC-Easy-Test.jsonl": bad])?.field, "answerKey")
        let nested = #"{"question": {"stem": "s", "choices": [{"text": "a", "label": "A"}, {"label": "B"}]}, "answerKey": "A"}"#
        let error = try load("arc_challenge", ["arc/ARC-Challenge-Test.jsonl": nested])
        XCTAssertEqual(error?.description, "arc/ARC-Challenge-Test.jsonl:1: field \"question.choices[1].text\": missing")
    }

    func testMissingFileAndUnknownTask() throws {
        XCTAssertEqual(try load("openbookqa", [:]), DataError(file: "openbookqa/test.jsonl", problem: "missing"))
        XCTAssertEqual(try load("mmlu", [:])?.file, "mmlu")
    }
}
