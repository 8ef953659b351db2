import Foundation
@testable import Harness
import Tasks
import XCTest

/// Sweep configurations: defaults, validation, the plan, and the stable default name.
final class SweepConfigTests: XCTestCase {
    func testConfigFileDefaultsAndPlanOrder() throws {
        let json = #"{"methods": ["bip", "flap"], "sparsities": [0.1, 0.3], "seeds": [0, 1], "tasks": ["wikitext2", "piqa"], "limit": 10}"#
        let config = try JSONDecoder().decode(SweepConfig.self, from: Data(json.utf8))
        XCTAssertEqual(config.model, "smollm2-135m")
        XCTAssertEqual(config.calibration, "c4:128x128")
        XCTAssertEqual(config.evalProtocol, .llmPruner)
        XCTAssertEqual(config.seqLen, 128)
        try config.validate()
        XCTAssertEqual(config.jobs.map(\.label), [
            "dense",
            "bip @ 0.10 seed 0", "bip @ 0.10 seed 1", "bip @ 0.30 seed 0", "bip @ 0.30 seed 1",
            "flap @ 0.10 seed 0", "flap @ 0.10 seed 1", "flap @ 0.30 seed 0", "flap @ 0.30 seed 1",
        ])
        // The name depends on the configuration only.
        XCTAssertEqual(config.defaultName, try JSONDecoder().decode(SweepConfig.self, from: Data(config.json.utf8)).defaultName)
        var other = config
        other.limit = 11
        XCTAssertNotEqual(config.defaultName, other.defaultName)
        XCTAssertTrue(config.defaultName.hasPrefix("sweep-") && config.defaultName.count == 16)
    }

    func testImpossibleConfigurationsSayWhatIsPossible() {
        func problem(_ change: (inout SweepConfig) -> Void) -> String {
            var config = SweepConfig(model: "m", methods: ["bip"], sparsities: [0.2], tasks: ["piqa"])
            change(&config)
            do {
                try config.validate()
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertEqual(problem { _ in }, "")
        XCTAssertTrue(problem { $0.methods = ["bipp"] }.contains("unknown method 'bipp' (known: bip, bip-local"))
        XCTAssertTrue(problem { $0.sparsities = [1.5] }.contains("strictly between 0 and 1"))
        XCTAssertTrue(problem { $0.tasks = ["mmlu"] }.contains("unknown task 'mmlu'"))
        XCTAssertTrue(problem { $0.calibration = "c4:0x128" }.contains("empty"))
        XCTAssertTrue(problem { $0.methods = ["bip", "bip"] }.contains("listed twice"))
    }

    func testABadConfigFileNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(#"{"methods": ["bip"]}"#.utf8).write(to: url)
        XCTAssertThrowsError(try SweepConfig.load(url.path)) { error in
            XCTAssertEqual("\(error)", "\(url.path): not a sweep configuration: missing field 'sparsities'")
        }
        try Data(#"{"methods": ["bip"], "sparsities": [2]}"#.utf8).write(to: url)
        XCTAssertThrowsError(try SweepConfig.load(url.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(url.path): sparsities must be"), "\(error)")
        }
        try Data(#"{"methods": ["bip"], "sparsities": [0.2], "protocol": "x"}"#.utf8).write(to: url)
        XCTAssertThrowsError(try SweepConfig.load(url.path)) { error in
            XCTAssertEqual("\(error)", "\(url.path): protocol must be one of llm-pruner, lm-eval")
        }
        // Found by the sweepconfig fuzz target: an unknown method's error did not name the file.
        try Data(#"{"methods": ["magnitwde-l2"], "sparsities": [0.2], "tasks": ["wikitext2"], "model": "m"}"#.utf8).write(to: url)
        XCTAssertThrowsError(try SweepConfig.load(url.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(url.path): unknown method 'magnitwde-l2'"), "\(error)")
        }
    }

    /// A value given to a sweep option that does not parse says which option and value.
    /// (The round trip of the printed command line through `bip sweep` is SweepOptionTableTests'.)
    func testOptionValuesThatDoNotParseSayWhich() throws {
        var config = SweepConfig(model: "other", methods: ["flap"], sparsities: [0.5], tasks: TaskCatalog.names)
        let seeds = try XCTUnwrap(SweepOption.all.first { $0.flag == "seeds" })
        XCTAssertThrowsError(try seeds.apply("1,x", to: &config)) { XCTAssertEqual("\($0)", "--seeds: 'x' is not valid") }
        let evalProtocol = try XCTUnwrap(SweepOption.all.first { $0.flag == "protocol" })
        XCTAssertThrowsError(try evalProtocol.apply("x", to: &config)) {
            XCTAssertTrue($0 is SweepUsageError)
            XCTAssertEqual("\($0)", "--protocol: 'x' is not one of llm-pruner, lm-eval")
        }
    }
}
