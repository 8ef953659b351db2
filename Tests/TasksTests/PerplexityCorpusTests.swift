import Foundation
import XCTest
@testable import Tasks

final class PerplexityCorpusTests: XCTestCase {
    func testWikiText2EqualsShippedJoinedText() throws {
        let data = try realData()
        let corpus = try PerplexityCorpus.load("wikitext2", from: data)
        XCTAssertEqual(Data(corpus.text.utf8), try Data(contentsOf: data.file("wikitext2/wikitext-2-raw-v1.test.joined.txt")))
        XCTAssertTrue(corpus.text.hasPrefix("\n\n = Robert Boulter = \n\n\n"))
    }

    func testPTBLinesStrippedAndJoined() throws {
        let corpus = try PerplexityCorpus.load("ptb", from: try realData())
        XCTAssertTrue(corpus.text.hasPrefix("consumers may want to move their telephones a little closer to the tv set\n\n<unk> <unk> watching abc 's monday night football can now vote during <unk>"))
        XCTAssertEqual(corpus.text.components(separatedBy: "\n\n").count, 3370)
        XCTAssertFalse(corpus.text.hasSuffix(" ") || corpus.text.hasSuffix("\n"))
    }

    func testTokensAndWindows() {
        let corpus = PerplexityCorpus(name: "t", file: "t", text: "<unk> ab")
        XCTAssertEqual(corpus.tokens(ByteTokenizer(addsBOS: true)), [256] + bytes("<unk> ab"))
        XCTAssertEqual(corpus.tokens(ByteTokenizer(addsBOS: false)), bytes("<unk> ab"))
        let windows = PerplexityCorpus.windows(Array(0..<10), seqLen: 4)
        XCTAssertEqual(windows.map(Array.init), [[0, 1, 2, 3], [4, 5, 6, 7]])
        XCTAssertEqual(PerplexityCorpus.windows(Array(0..<3), seqLen: 4).count, 0)
    }
}
