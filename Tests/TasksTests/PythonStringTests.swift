import XCTest
@testable import Tasks

/// Python semantics, with expected values worked out by hand from Python's documented behaviour.
final class PythonStringTests: XCTestCase {
    func testStripUsesPythonWhitespace() {
        XCTAssertEqual(PythonString.strip(" \t\n\u{0B}\u{0C}\r x y \u{1C}\u{85}\u{A0}\u{2009}\u{3000}"), "x y")
        // U+200B (zero-width space) and U+FEFF are not whitespace for Python.
        XCTAssertEqual(PythonString.strip("\u{FEFF} x \u{200B}"), "\u{FEFF} x \u{200B}")
        XCTAssertEqual(PythonString.strip("   "), "")
        XCTAssertEqual(PythonString.rstrip("Answer: \n"), "Answer:")
    }

    func testCapitalize() {
        XCTAssertEqual(PythonString.capitalize("éCOLE"), "École")
        XCTAssertEqual(Array(PythonString.capitalize("éCOLE").unicodeScalars), ["\u{C9}", "c", "o", "l", "e"])
        XCTAssertEqual(PythonString.capitalize("the LADY"), "The lady")
        XCTAssertEqual(PythonString.capitalize(""), "")
        XCTAssertEqual(PythonString.capitalize(" he"), " he")
        XCTAssertEqual(PythonString.capitalize("ßA"), "Ssa")          // title case of ß is "Ss"
        XCTAssertEqual(PythonString.capitalize("\u{01C6}EMAL"), "\u{01C5}emal")  // dž -> Dž (title case, not DŽ)
        XCTAssertEqual(PythonString.capitalize("ΟΔΟΣ ΣΑ"), "Οδος σα")  // final sigma at a word end only
    }

    func testLengthCountsCodePoints() {
        XCTAssertEqual(PythonString.length("e\u{301}"), 2)  // one grapheme, two code points
        XCTAssertEqual(PythonString.length("日本"), 2)      // six UTF-8 bytes
        XCTAssertEqual(PythonString.length("👍🏽"), 2)
    }

    func testReplaceIsOneLeftToRightPass() {
        XCTAssertEqual(PythonString.replace("a   b", "  ", with: " "), "a  b")
        XCTAssertEqual(PythonString.replace("a    b", "  ", with: " "), "a  b")
    }

    func testHellaSwagPreprocess() {
        XCTAssertEqual(HellaSwag.preprocess("  [header] How to x [title] Do y. [step] Z  "), " How to x. Do y. Z")
        XCTAssertEqual(HellaSwag.preprocess("a [x] b [y] c"), "a b c")                 // non-greedy
        XCTAssertEqual(HellaSwag.preprocess("a [b\nc] d"), "a [b\nc] d")               // not across a newline
        XCTAssertEqual(HellaSwag.preprocess("[[x]]"), "]")
        XCTAssertEqual(HellaSwag.preprocess("open [bracket"), "open [bracket")
        XCTAssertEqual(HellaSwag.preprocess("a   b"), "a  b")                           // one pass only
        XCTAssertEqual(HellaSwag.preprocess("Title [title] body"), "Title. body")
        XCTAssertEqual(HellaSwag.preprocess("[title] x"), " x")  // no space before it: just a span
    }
}
