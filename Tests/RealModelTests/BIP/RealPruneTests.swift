import BIP
import Foundation
import Gradients
import Runtime
import Tasks
import TestSupport
import XCTest

/// Real pruning quality on the default model: the pruned models run and their perplexity stays
/// in the range the methods promise.
final class RealPruneTests: XCTestCase {
    /// bip at 0.2 of the default model on a small C4 calibration: the sparsity is reached, the
    /// pruned model runs, and its WikiText2 perplexity on a few windows is finite.
    func testRealPruneAtTwentyPercent() throws {
        let loaded = try TestModel.loaded()
        let data = DataDirectory(url: try TestModel.dataDirectory())
        let calibration = try CalibrationSet.draw(.c4(sequences: 8, tokens: 128), seed: 0, tokenizer: loaded.tokenizer, data: data)
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: try ImportanceMethods.named("bip"), sparsity: 0.2),
                                       calibration: calibration.sequences)
        XCTAssertEqual(outcome.before.total, 134_515_008)
        XCTAssertEqual(outcome.sparsity, 0.2, accuracy: 0.001)
        XCTAssertEqual(outcome.layers, 4..<28)
        XCTAssertEqual(outcome.model.layers[0].ffnWidth, 1536)

        let text = try String(contentsOf: data.file("wikitext2/wikitext-2-raw-v1.test.joined.txt"), encoding: .utf8)
        let ids = loaded.tokenizer.encode(String(text.prefix(8000)), parseSpecial: false)
        let windows = (0..<4).map { Array(ids[($0 * 128)..<(($0 + 1) * 128)]) }
        func perplexity(_ model: LlamaModel) -> Double {
            let forward = ForwardPass(model: model), head = LanguageModelHead(model: model)
            let hidden = forward(windows.enumerated().map { SequenceInput(slot: $0.offset, tokens: $0.element) },
                                 cache: KVCache(model: model, slots: windows.count, capacity: 128))
            var rows: [Int] = [], targets: [Int] = []
            for (w, window) in windows.enumerated() {
                rows += (0..<127).map { w * 128 + $0 }
                targets += window.dropFirst()
            }
            let logProbabilities = withExtendedLifetime(forward) { head.logProbabilities(hidden, rows: rows, targets: targets) }
            return exp(-logProbabilities.reduce(0, +) / Double(logProbabilities.count))
        }
        let dense = perplexity(loaded.model), pruned = perplexity(outcome.model)
        print(String(format: "WikiText2 perplexity on 4 windows of 128: dense %.2f, bip 0.2 pruned %.2f", dense, pruned))
        XCTAssertTrue(pruned.isFinite && pruned > 1, "pruned perplexity \(pruned)")
        XCTAssertGreaterThan(pruned, dense * 0.9)
    }

    func testPruningTheDefaultModelWithTaylorScores() throws {
        // The real model: c4:10x64 as LLM-Pruner, 20% of the parameters; then the pruned model's
        // perplexity on a few WikiText2 windows is finite and far below random pruning's.
        let loaded = try TestModel.loaded()
        let method = try ImportanceMethods.named("llm-pruner-element1")
        XCTAssertEqual(method.calibration(requested: nil), .c4(sequences: 10, tokens: 64))
        XCTAssertEqual(method.calibration(requested: .c4(sequences: 16, tokens: 128)), .c4(sequences: 16, tokens: 128))
        let calibration = try CalibrationSet.draw(method.calibration(requested: nil), seed: 0, tokenizer: loaded.tokenizer,
                                                  data: DataDirectory(url: TestModel.dataDirectory()))
        let outcome = try Pruner.prune(loaded.model, PruningRequest(method: method, sparsity: 0.2),
                                       calibration: calibration.sequences)
        XCTAssertEqual(outcome.sparsity, 0.2, accuracy: 0.005)
        XCTAssertEqual(outcome.seconds.first?.phase, "gradients")
        let random = try Pruner.prune(loaded.model, PruningRequest(method: ImportanceMethods.named("random"), sparsity: 0.2),
                                      calibration: nil)
        let text = try TestModel.dataDirectory().appendingPathComponent(CalibrationSet.wikitext2File)
        let words = try String(contentsOf: text, encoding: .utf8).prefix(20_000)
        let ids = Array(loaded.tokenizer.encode(String(words), parseSpecial: false).prefix(4 * 128))
        func perplexity(_ model: LlamaModel) -> Double {
            let batch = stride(from: 0, to: ids.count - 127, by: 128).map { TrainingSequence.languageModeling(Array(ids[$0..<($0 + 128)])) }
            let loss = TrainingPass(model: model).loss(batch)
            return exp(loss.sum / Double(loss.targets))
        }
        let taylor = perplexity(outcome.model), randomly = perplexity(random.model)
        XCTAssertTrue(taylor.isFinite && taylor < randomly / 2, "llm-pruner-element1 \(taylor), random \(randomly)")
    }
}
