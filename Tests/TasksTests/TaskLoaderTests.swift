import Foundation
import XCTest
@testable import Tasks

/// The seven tasks on the real data; expected strings are written by hand from the raw lines.
final class TaskLoaderTests: XCTestCase {
    /// Each task is parsed once per test run (tests run serially).
    nonisolated(unsafe) private static var loaded: [String: ZeroShotTask] = [:]

    func task(_ name: String, limit: Int? = nil) throws -> ZeroShotTask {
        if let task = Self.loaded[name] { return task.limited(to: limit) }
        let task = try ZeroShotTask.load(name, from: try realData())
        Self.loaded[name] = task
        return task.limited(to: limit)
    }

    func testRecordCountsAndRequestCounts() throws {
        let expected = ["boolq": (3270, 6540), "piqa": (1838, 3676), "hellaswag": (10042, 40168), "winogrande": (1267, 2534),
                        "arc_easy": (2376, 2365 * 4 + 7 * 3 + 4 * 5), "arc_challenge": (1172, nil as Int?), "openbookqa": (500, 2000)]
        for spec in TaskCatalog.all where !spec.isPerplexity {
            let name = spec.name
            let task = try task(name)
            let (documents, requests) = try XCTUnwrap(expected[name])
            XCTAssertEqual(task.documents.count, documents, name)
            if let requests { XCTAssertEqual(task.documents.map(\.choiceCount).reduce(0, +), requests, name) }
            XCTAssertEqual(task.documents.map(\.index), Array(0..<documents), name)
            for document in task.documents {
                XCTAssertTrue(document.choiceTexts.indices.contains(document.gold), "\(name) \(document.index)")
            }
        }
    }

    func testLabelDistributionsMatchREADME() throws {
        func counts(_ task: ZeroShotTask) -> [Int] {
            (0..<5).map { g in task.documents.filter { $0.gold == g }.count }
        }
        XCTAssertEqual(counts(try task("boolq")), [1237, 2033, 0, 0, 0])
        XCTAssertEqual(counts(try task("piqa")), [910, 928, 0, 0, 0])
        XCTAssertEqual(counts(try task("hellaswag")), [2515, 2485, 2584, 2458, 0])
        XCTAssertEqual(counts(try task("winogrande")), [628, 639, 0, 0, 0])
    }

    func testWinograndeGoldAgreesWithOfficialLabels() throws {
        let labels = try DataFile.lines("winogrande/dev-labels.lst", in: try realData())
        XCTAssertEqual(try task("winogrande").documents.map { String($0.gold + 1) }, labels)
    }

    func testLimitKeepsFirstDocumentsInFileOrder() throws {
        let all = try task("piqa"), three = try task("piqa", limit: 3)
        XCTAssertEqual(three.documents, Array(all.documents.prefix(3)))
        XCTAssertEqual(try task("openbookqa", limit: 10_000).documents.count, 500)
    }

    func testBoolQFirstDocument() throws {
        let d = try task("boolq", limit: 1).documents[0]
        XCTAssertEqual(d.contexts.count, 1)
        XCTAssertTrue(d.contexts[0].hasPrefix("Ethanol fuel -- All biomass goes through at least some of these steps:"))
        XCTAssertTrue(d.contexts[0].hasSuffix(
            "concluded that producing ethanol from corn uses much less petroleum than producing gasoline.\nQuestion: does ethanol take more energy make that produces?\nAnswer:"))
        XCTAssertEqual(d.continuations, [" no", " yes"])
        XCTAssertEqual(d.gold, 0)
    }

    func testPIQAFirstDocument() throws {
        let d = try task("piqa", limit: 1).documents[0]
        XCTAssertEqual(d.contexts, ["Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:"])
        XCTAssertEqual(d.continuations, [
            " Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.",
            " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish.",
        ])
        XCTAssertEqual(d.gold, 0)
        // Line 2 keeps its trailing space and double space: no stripping of solutions.
        XCTAssertEqual(try task("piqa", limit: 2).documents[1].continuations, [" replace drawer with bobby pin ", " finish, woodgrain with  bobby pin "])
    }

    func testHellaSwagFirstDocument() throws {
        let d = try task("hellaswag", limit: 1).documents[0]
        XCTAssertEqual(d.contexts, ["Roof shingle removal: A man is sitting on a roof. He"])
        XCTAssertEqual(d.continuations, [" is using wrap to wrap a pair of skis.", " is ripping level tiles off.",
                                         " is holding a rubik's cube.", " starts pulling up roofing on a roof."])
        XCTAssertEqual(d.choiceTexts[3], "starts pulling up roofing on a roof.")
        XCTAssertEqual(d.gold, 3)
    }

    func testHellaSwagWikiHowDocument() throws {
        // Line 3244: ctx_b is empty, ctx_a has [header], [title] and [step].
        let d = try task("hellaswag", limit: 3244).documents[3243]
        XCTAssertEqual(d.contexts, ["Personal Care and Style: How to become a fashion consultant. Obtain your high school diploma or ged. This job requires a high school diploma or equivalent, so make sure to apply yourself and finish school. If your high school offers these classes, take art, design, and sewing to familiarize yourself with foundational concepts in fashion."])
    }

    func testWinograndeFirstDocument() throws {
        let d = try task("winogrande", limit: 1).documents[0]
        XCTAssertEqual(d.contexts, ["Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"])
        XCTAssertEqual(d.continuations, [" always got the easier cases."])
        XCTAssertEqual(d.context(1), "Sarah was a much better surgeon than Maria so Maria")
        XCTAssertEqual(d.continuation(1), " always got the easier cases.")
        XCTAssertEqual(d.gold, 1)
    }

    func testARCFirstDocuments() throws {
        let easy = try task("arc_easy", limit: 15)
        XCTAssertEqual(easy.documents[0].contexts, ["Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:"])
        XCTAssertEqual(easy.documents[0].continuations, [" Sunlight is the source of energy for nearly all ecosystems.",
                                                         " Most ecosystems are found on land instead of in water.",
                                                         " Carbon dioxide is more available than other gases.",
                                                         " The producers in all ecosystems are plants."])
        XCTAssertEqual(easy.documents[0].gold, 0)
        // Line 15 uses labels 1-4 and answerKey "2".
        XCTAssertEqual(easy.documents[14].contexts, ["Question: All living and nonliving material is composed of\nAnswer:"])
        XCTAssertEqual(easy.documents[14].continuations, [" air", " elements", " water", " soil"])
        XCTAssertEqual(easy.documents[14].gold, 1)

        let challenge = try task("arc_challenge", limit: 1).documents[0]
        XCTAssertEqual(challenge.contexts, ["Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:"])
        XCTAssertEqual(challenge.continuations, [" Planetary density will decrease.", " Planetary years will become longer.",
                                                 " Planetary days will become shorter.", " Planetary gravity will become stronger."])
        XCTAssertEqual(challenge.gold, 2)
    }

    func testOpenBookQAFirstDocument() throws {
        let d = try task("openbookqa", limit: 1).documents[0]
        XCTAssertEqual(d.contexts, ["A person wants to start saving money so that they can afford a nice vacation at the end of the year. After looking over their budget and expenses, they decide the best way to save money is to"])
        XCTAssertEqual(d.continuations, [" make more phone calls", " quit eating lunch out", " buy less with monopoly money", " have lunch with friends"])
        XCTAssertEqual(d.gold, 1)
    }

    func testMetricsAndPaperMetric() throws {
        XCTAssertEqual(try task("boolq", limit: 1).metrics, [.acc])
        XCTAssertEqual(try task("hellaswag", limit: 1).metrics, [.acc, .accNorm])
        XCTAssertEqual(try task("openbookqa", limit: 1).paperMetric, .accNorm)
    }

    /// ARC-Easy: 2365 documents of 4 choices, 7 of 3 and 4 of 5.
    func testChanceLevelOfARCEasy() throws {
        XCTAssertEqual(TaskSpec.chanceLevel(of: try task("arc_easy").documents), (2365.0 / 4 + 7.0 / 3 + 4.0 / 5) / 2376, accuracy: 1e-12)
    }
}
