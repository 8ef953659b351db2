import ArgumentParser
@testable import bip
import Foundation
@testable import Harness
import Tasks
import XCTest

/// `bip sweep` applies its options through Harness's table of sweep options: the command line a
/// report prints for a configuration, parsed by `bip sweep`, plans that configuration again.
final class SweepOptionTableTests: XCTestCase {
    func testEveryTableFlagIsAnOptionOfSweepAndThePrintedLinePlansTheSameSweep() throws {
        let help = SweepCommand.helpMessage(includeHidden: false, columns: 1000)
        for option in SweepOption.all {
            XCTAssertNotNil(help.range(of: "--\(option.flag)\(option.takesValue ? " <" : " ")"), "bip sweep has no --\(option.flag)")
        }
        var tune = SweepTune(data: "c4", heldOut: 2000)
        tune.options.batch = 4
        tune.options.microBatch = 4
        tune.options.maxSteps = 7
        var recipe = SweepTune(data: "c4", heldOut: 16)
        recipe.options.rank = 4
        recipe.options.maxSteps = 12
        let configs = [
            SweepConfig(model: "smollm2-135m", methods: ["bip", "wanda-sp"], sparsities: [0.2, 0.35], seeds: [0, 3],
                        tasks: ["wikitext2", "piqa"], limit: 20, evalProtocol: .lmEval, seqLen: 64, calibration: "c4:32x128",
                        benchSeconds: 1.5, benchRounds: 2, tune: tune),
            SweepConfig(model: "smollm2-135m", methods: ["flap"], sparsities: [0.5], tasks: TaskCatalog.names),
            SweepConfig(model: "smollm2-135m", methods: ["bip", "flap"], sparsities: [0.2], tasks: ["wikitext2"],
                        allocations: [.uniform, .globalRaw], statistics: [.oneShot, .sequential], biasCompensation: [true, false],
                        layers: [.range(2..<28), .all], compute: .bf16),
            // A recipe the short flags cannot say: --tune-recipe carries it.
            SweepConfig(model: "smollm2-135m", methods: ["bip"], sparsities: [0.2], tasks: ["wikitext2"],
                        tune: recipe),
        ]
        for config in configs {
            let line = SweepCommandLine.text(config, name: "n")
            // The words as a shell passes them (no value here has a space, so quotes only wrap words).
            let arguments = line.replacingOccurrences(of: " \\\n    ", with: " ").split(separator: " ").dropFirst(2)
                .map { $0.replacingOccurrences(of: "'", with: "") }
            XCTAssertEqual(line.contains("--layers '2..<28,all'"), config.layers != nil, line)
            XCTAssertEqual(line.contains("--tune-recipe"), config.tune?.heldOut == 16, line)
            let command = try XCTUnwrap(SweepCommand.parseAsRoot(arguments) as? SweepCommand)
            XCTAssertEqual(try command.requestedConfig(), config, line)
            XCTAssertEqual(command.name, "n")
        }
    }
}
