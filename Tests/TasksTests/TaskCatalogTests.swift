import Foundation
import TestSupport
import XCTest
@testable import Tasks

/// The table of tasks: names, titles, data sets, metrics and chance levels.
final class TaskCatalogTests: XCTestCase {
    func testNamesAndTitlesInTableOrder() {
        XCTAssertEqual(TaskCatalog.names, ["wikitext2", "ptb", "boolq", "piqa", "hellaswag", "winogrande",
                                           "arc_easy", "arc_challenge", "openbookqa"])
        XCTAssertEqual(Set(TaskCatalog.names).count, TaskCatalog.all.count)
        XCTAssertEqual(TaskCatalog.all.map(\.title), ["WikiText2", "PTB", "BoolQ", "PIQA", "HellaSwag", "WinoGrande",
                                                      "ARC-e", "ARC-c", "OBQA"])
        XCTAssertEqual(TaskCatalog.all.map(\.isPerplexity), [true, true, false, false, false, false, false, false, false])
        XCTAssertEqual(TaskCatalog.spec("arc_challenge")?.title, "ARC-c")
        XCTAssertNil(TaskCatalog.spec("c4"))
    }

    func testEveryDataSetHasAManifestHoldingTheTaskFiles() throws {
        XCTAssertEqual(DatasetManifest.allNames, ["wikitext2", "ptb", "boolq", "piqa", "hellaswag", "winogrande", "arc", "openbookqa", "c4"])
        for spec in TaskCatalog.all {
            let manifest = try DatasetManifest.load(spec.dataset)
            XCTAssertEqual(manifest.name, spec.dataset)
            XCTAssertFalse(spec.files.isEmpty, spec.name)
            for file in spec.files { XCTAssertNotNil(manifest.file(file), "\(spec.name): \(file) not in \(spec.dataset).json") }
        }
        XCTAssertEqual(TaskCatalog.spec("arc_easy")?.dataset, "arc")
        XCTAssertEqual(TaskCatalog.spec("arc_challenge")?.dataset, "arc")
    }

    func testMetricsAndPaperMetrics() {
        XCTAssertEqual(TaskCatalog.all.map(\.metrics), [["ppl"], ["ppl"], ["acc"], ["acc", "acc_norm"], ["acc", "acc_norm"], ["acc"],
                                                        ["acc", "acc_norm"], ["acc", "acc_norm"], ["acc", "acc_norm"]])
        XCTAssertEqual(TaskCatalog.all.map(\.paperMetric), ["ppl", "ppl", "acc", "acc", "acc_norm", "acc", "acc", "acc_norm", "acc_norm"])
        for spec in TaskCatalog.all { XCTAssertTrue(spec.metrics.contains(spec.paperMetric), spec.name) }
    }

    func testChanceLevels() {
        XCTAssertEqual(TaskCatalog.all.map(\.chanceLevel), [nil, nil, 0.5, 0.5, 0.25, 0.5, 0.25, 0.25, 0.25])
        func document(_ choices: Int) -> ZeroShotDocument {
            ZeroShotDocument(index: 0, contexts: ["Q"], continuations: (0..<choices).map { " \($0)" }, gold: 0,
                             choiceTexts: (0..<choices).map(String.init))
        }
        XCTAssertEqual(TaskSpec.chanceLevel(of: [document(4), document(4)]), 0.25)
        XCTAssertEqual(TaskSpec.chanceLevel(of: [document(2), document(4), document(5)]), (0.5 + 0.25 + 0.2) / 3, accuracy: 1e-15)
        XCTAssertTrue(TaskSpec.chanceLevel(of: []).isNaN)
    }

    func testUnknownNamesKeepTheirErrors() throws {
        let data = DataDirectory(url: try temporaryFolder("catalog"))
        XCTAssertThrowsError(try ZeroShotTask.load("wikitext2", from: data)) { error in
            XCTAssertEqual("\(error)", "wikitext2: unknown task (known: boolq, piqa, hellaswag, winogrande, arc_easy, arc_challenge, openbookqa)")
        }
        XCTAssertThrowsError(try PerplexityCorpus.load("boolq", from: data)) { error in
            XCTAssertEqual("\(error)", "boolq: unknown perplexity corpus (known: wikitext2, ptb)")
        }
    }
}
