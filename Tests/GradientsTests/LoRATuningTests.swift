import Foundation
import Gradients
import Runtime
import TestSupport
import XCTest

final class LoRATuningTests: XCTestCase {
    func testAdamWMatchesHandComputedSteps() {
        // Two steps on one parameter, lr 0.1, worked out by hand from the AdamW update.
        var adam = AdamW(parameters: 1)
        var p: [Float] = [1]
        adam.update(&p, gradient: [0.5], lr: 0.1)
        XCTAssertEqual(p[0], 0.9, accuracy: 1e-6)
        adam.update(&p, gradient: [-0.25], lr: 0.1)
        XCTAssertEqual(p[0], 0.873366, accuracy: 1e-5)
        // Decoupled weight decay with a zero gradient: p -= lr · decay · p.
        var decaying = AdamW(parameters: 1, weightDecay: 0.1)
        var q: [Float] = [1]
        decaying.update(&q, gradient: [0], lr: 0.1)
        XCTAssertEqual(q[0], 0.99, accuracy: 1e-7)
    }

    static func tuning(steps: Int = 12, lr: Float = 1e-2) throws -> LoRATuning {
        let model = ReferenceModel.tinyModel(seed: 9)
        var generator = SeededGenerator(seed: 2)
        let training = (0..<24).map { _ in TrainingSequence.languageModeling((0..<8).map { _ in generator.index(below: 6) }) }
        let heldOut = (0..<4).map { _ in TrainingSequence.languageModeling((0..<8).map { _ in generator.index(below: 6) }) }
        var options = TuningOptions()
        options.rank = 2
        options.alpha = 4
        options.learningRate = lr
        options.batch = 6
        options.microBatch = 3
        options.maxSteps = steps
        options.epochs = 10
        options.warmupSteps = 2
        options.evalSteps = 4
        return try LoRATuning(model: model, options: options, training: training, heldOut: heldOut)
    }

    func testTheScheduleWarmsUpThenDecaysLinearly() throws {
        let tuning = try Self.tuning(steps: 10)
        XCTAssertEqual(tuning.totalSteps, 10)
        let expected: [Double] = [0.5, 1, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125]
        for (step, factor) in expected.enumerated() {
            XCTAssertEqual(tuning.learningRate(step: step), Float(factor) * 1e-2, accuracy: 1e-8, "step \(step)")
        }
    }

    func testEveryEpochVisitsEachExampleOnce() throws {
        let tuning = try Self.tuning()
        XCTAssertEqual(tuning.stepsPerEpoch, 4)
        for epoch in 0..<2 {
            let seen = (0..<4).flatMap { tuning.examples(step: epoch * 4 + $0) }
            XCTAssertEqual(seen.count, 24)
            XCTAssertEqual(Set(seen.map(\.tokens)), Set(tuning.training.map(\.tokens)))
        }
        XCTAssertNotEqual(tuning.examples(step: 0), tuning.examples(step: 4), "each epoch has its own order")
    }

    func testTuningLowersTheLossAndKeepsTheBestAdapters() throws {
        let tuning = try Self.tuning(steps: 12, lr: 3e-2)
        var state = tuning.start()
        let before = try XCTUnwrap(tuning.evaluate(&state))
        var losses: [Double] = []
        while state.step < tuning.totalSteps {
            losses.append(tuning.step(&state).loss)
            if state.step % 4 == 0 { _ = tuning.evaluate(&state) }
        }
        XCTAssertLessThan(losses.suffix(3).reduce(0, +) / 3, losses.prefix(3).reduce(0, +) / 3 - 0.05, "\(losses)")
        let best = try XCTUnwrap(state.best)
        XCTAssertLessThan(best.loss, before)
        XCTAssertEqual(best.loss, state.heldOutLosses.map(\.loss).min())
        // The merged best adapters give the best held-out loss without adapters.
        let merged = TrainingPass(model: tuning.final(state).merged(into: tuning.model))
        let heldOut = merged.loss(tuning.heldOut)
        XCTAssertEqual(heldOut.sum / Double(heldOut.targets), best.loss, accuracy: 1e-5)
    }

    func testACheckpointResumesExactlyWhereTheTuneStopped() throws {
        let folder = try temporaryFolder("tune")
        let tuning = try Self.tuning(steps: 6)
        var straight = tuning.start()
        for _ in 0..<3 { _ = tuning.step(&straight) }
        _ = tuning.evaluate(&straight)
        try TuningCheckpoint.write(straight, options: tuning.options, to: folder)
        var resumed = try TuningCheckpoint.read(from: folder, options: tuning.options)
        XCTAssertEqual(resumed, straight)
        for _ in 0..<3 {
            _ = tuning.step(&straight)
            _ = tuning.step(&resumed)
        }
        XCTAssertEqual(resumed.lora.values, straight.lora.values, "bit for bit")
        // A newer checkpoint replaces the older values file.
        try TuningCheckpoint.write(straight, options: tuning.options, to: folder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                       ["checkpoint-6.bin", "checkpoint.json"])
        // Another tune's options: an error saying which option differs.
        var other = tuning.options
        other.learningRate = 5e-4
        XCTAssertThrowsError(try TuningCheckpoint.read(from: folder, options: other)) { error in
            XCTAssertTrue("\(error)".contains("learningRate"), "\(error)")
        }
        // A truncated values file.
        let values = folder.appendingPathComponent("checkpoint-6.bin")
        try Data(try Data(contentsOf: values).prefix(100)).write(to: values)
        XCTAssertThrowsError(try TuningCheckpoint.read(from: folder, options: tuning.options)) { error in
            XCTAssertTrue("\(error)".contains("checkpoint-6.bin: 100 bytes"), "\(error)")
        }
    }

    func testBadOptionsAreErrors() {
        var options = TuningOptions()
        options.batch = 10
        options.microBatch = 4
        XCTAssertThrowsError(try options.validate()) { XCTAssertTrue("\($0)".contains("not a multiple")) }
    }
}
