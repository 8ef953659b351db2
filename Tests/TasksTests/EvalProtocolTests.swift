import XCTest
@testable import Tasks

final class EvalProtocolTests: XCTestCase {
    func testLLMPrunerTokenizesSeparatelyWithoutBOS() throws {
        let request = try EvalProtocol.llmPruner.request(context: "Answer: ", continuation: "yes", tokenizer: ByteTokenizer(addsBOS: true))
        XCTAssertEqual(request.contextTokens, bytes("Answer: "))
        XCTAssertEqual(request.continuationTokens, bytes("yes"))
    }

    func testLMEvalMovesTrailingWhitespaceAndAddsBOS() throws {
        let request = try EvalProtocol.lmEval.request(context: "Answer: \n", continuation: "yes", tokenizer: ByteTokenizer(addsBOS: true))
        XCTAssertEqual(request.contextTokens, [256] + bytes("Answer:"))
        XCTAssertEqual(request.continuationTokens, bytes(" \nyes"))
        let noBOS = try EvalProtocol.lmEval.request(context: "Q:", continuation: " a", tokenizer: ByteTokenizer(addsBOS: false))
        XCTAssertEqual(noBOS, ZeroShotRequest(contextTokens: bytes("Q:"), continuationTokens: bytes(" a")))
    }

    func testLMEvalTakesContinuationFromTheWholeEncoding() throws {
        // "xa" + "ab": whole = x, aa, b; context = x, a; continuation = whole[2...] = b.
        let merging = ByteTokenizer(addsBOS: false, mergeDoubles: true)
        let lmEval = try EvalProtocol.lmEval.request(context: "xa", continuation: "ab", tokenizer: merging)
        XCTAssertEqual(lmEval, ZeroShotRequest(contextTokens: bytes("xa"), continuationTokens: bytes("b")))
        let llmPruner = try EvalProtocol.llmPruner.request(context: "xa", continuation: "ab", tokenizer: merging)
        XCTAssertEqual(llmPruner, ZeroShotRequest(contextTokens: bytes("xa"), continuationTokens: bytes("ab")))
    }

    func testEmptyContinuationIsAReportedError() throws {
        // "ca" + "a" encodes to c, aa: as long as the context alone, so nothing is left to score.
        let merging = ByteTokenizer(addsBOS: true, mergeDoubles: true)
        XCTAssertEqual(dataError { _ = try EvalProtocol.lmEval.request(context: "ca", continuation: "a", tokenizer: merging) }?.problem,
                       "empty continuation")
        let document = ZeroShotDocument(index: 4, contexts: ["ca"], continuations: [" b", "a"], gold: 0, choiceTexts: ["b", "a"])
        let task = ZeroShotTask(name: "toy", file: "toy.jsonl", documents: [document], metrics: [.acc], paperMetric: .acc)
        let error = dataError { _ = try EvalProtocol.lmEval.requests(for: document, of: task, tokenizer: merging) }
        XCTAssertEqual(error, DataError(file: "toy.jsonl", line: 5, field: "choice 1", problem: "toy under lm-eval: empty continuation"))
        XCTAssertEqual(try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: merging).count, 2)
    }

    func testEmptyContextUsesBOSOrEOS() throws {
        let withBOS = try EvalProtocol.lmEval.request(context: "", continuation: "a", tokenizer: ByteTokenizer(addsBOS: true))
        XCTAssertEqual(withBOS.contextTokens, [256])
        let pruner = try EvalProtocol.llmPruner.request(context: "", continuation: "a", tokenizer: ByteTokenizer(addsBOS: true))
        XCTAssertEqual(pruner.contextTokens, [257])
    }

    func testWinograndeRequestsShareTheContinuation() throws {
        let document = ZeroShotDocument(index: 0, contexts: ["A so A", "A so B"], continuations: [" won."], gold: 1, choiceTexts: ["A", "B"])
        let task = ZeroShotTask(name: "winogrande", file: "w.jsonl", documents: [document], metrics: [.acc], paperMetric: .acc)
        let requests = try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: ByteTokenizer())
        XCTAssertEqual(requests.map(\.contextTokens), [bytes("A so A"), bytes("A so B")])
        XCTAssertEqual(requests.map(\.continuationTokens), [bytes(" won."), bytes(" won.")])
    }

    func testLeftTruncationKeepsContinuationWhole() throws {
        let document = ZeroShotDocument(index: 0, contexts: ["abcdef"], continuations: [" xy", " z"], gold: 0, choiceTexts: ["xy", "z"])
        let task = ZeroShotTask(name: "toy", file: "toy.jsonl", documents: [document], metrics: [.acc], paperMetric: .acc)
        let requests = try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: ByteTokenizer(), maxTokens: 5)
        XCTAssertEqual(requests[0], ZeroShotRequest(contextTokens: bytes("ef"), continuationTokens: bytes(" xy")))
        XCTAssertEqual(requests[1], ZeroShotRequest(contextTokens: bytes("def"), continuationTokens: bytes(" z")))
        XCTAssertEqual(try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: ByteTokenizer(), maxTokens: 100)[0].tokens,
                       bytes("abcdef xy"))
        XCTAssertNotNil(dataError { _ = try EvalProtocol.llmPruner.requests(for: document, of: task, tokenizer: ByteTokenizer(), maxTokens: 3) })
    }
}
