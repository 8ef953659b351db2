import Foundation
import Kernels
import Runtime
import XCTest

/// The LM head's tiled log-softmax: the values of a log-softmax taken in Double, and a row's bits
/// independent of the rows it shares a call with, given its forward call's row layout (which the
/// evaluators' shard invariance needs);
/// with the head's tiles multiplied by sgemm and, where the CPU has it, packed for oneDNN.
final class LanguageModelHeadTests: XCTestCase {
    /// Plain, and packed where the CPU has oneDNN's AVX-512 Float32 matmul.
    private let packings = PackedMatmul.isAvailable(.float32) ? [false, true] : [false]

    /// A head of `vocabulary` entries over `d` dimensions (several vocabulary tiles), and `rows` hidden states.
    private func head(vocabulary: Int = 5000, d: Int = 16, rows: Int, packed: Bool) throws -> (LanguageModelHead, [Float], [Float]) {
        var generator = SeededGenerator(seed: 11)
        func random(_ count: Int, _ scale: Float) -> [Float] {
            (0..<count).map { _ in (Float(generator.unit()) * 2 - 1) * scale }
        }
        let config = ModelConfig(architecture: "llama", vocabularySize: vocabulary, hiddenSize: d, headDim: 4,
                                 ropeBase: 10000, rmsEpsilon: 1e-5, contextLength: 64)
        let embedding = random(vocabulary * d, 1)
        var model = LlamaModel(config: config, tokenEmbedding: embedding, layers: [], outputNorm: [Float](repeating: 1, count: d),
                               lmHead: nil)
        if packed { try model.prepare(for: .fp32) }
        XCTAssertEqual(model.packedHead?.tiles.count, packed ? 3 : nil)
        return (LanguageModelHead(model: model), embedding, random(rows * d, 3))
    }

    func testLogProbabilitiesEqualALogSoftmaxTakenInDouble() throws {
        for packed in packings {
            let vocabulary = 5000, d = 16, count = 1100   // three tiles; two passes of rows
            let (head, embedding, hidden) = try head(vocabulary: vocabulary, d: d, rows: count, packed: packed)
            let rows = Array((0..<count).reversed()), targets = rows.map { ($0 * 7919) % vocabulary }
            let values = hidden.withUnsafeBufferPointer { head.logProbabilities($0, rows: rows, targets: targets) }
            for i in stride(from: 0, to: count, by: 37) {
                let logits = (0..<vocabulary).map { v in
                    (0..<d).reduce(0.0) { $0 + Double(hidden[rows[i] * d + $1]) * Double(embedding[v * d + $1]) }
                }
                let maximum = logits.max()!
                let expected = logits[targets[i]] - maximum - Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - maximum) })
                XCTAssertEqual(values[i], expected, accuracy: 2e-5, "row \(rows[i]), packed \(packed)")
            }
        }
    }

    func testARowsResultDoesNotDependOnTheRowsSharingTheCall() throws {
        for packed in packings {
            let (head, _, hidden) = try head(rows: 1300, packed: packed)
            // The hidden states of two sequences of 650 tokens, of phases 0 and 7, as a forward
            // call lays them out.
            let layout = AlignedRows(lengths: [650, 650], phases: [0, 7])
            func values(_ rows: [Int]) -> [Int: Double] {
                let targets = rows.map { ($0 * 31) % 5000 }
                let out = hidden.withUnsafeBufferPointer {
                    head.logProbabilities($0, rows: rows, targets: targets, layout: layout)
                }
                return Dictionary(uniqueKeysWithValues: zip(rows, out))
            }
            let few = values(Array(100..<164)), many = values(Array(0..<1300)), some = values(Array(90..<400))
            let across = values(Array(620..<700)), reversed = values(Array((600..<700).reversed()))
            for row in 100..<164 {
                XCTAssertEqual(few[row]!.bitPattern, many[row]!.bitPattern, "row \(row): 64 rows against 1300")
                XCTAssertEqual(few[row]!.bitPattern, some[row]!.bitPattern, "row \(row): 64 rows against 310")
            }
            for row in 620..<700 {
                XCTAssertEqual(across[row]!.bitPattern, many[row]!.bitPattern, "row \(row): 80 rows of both sequences against 1300")
                XCTAssertEqual(across[row]!.bitPattern, reversed[row]!.bitPattern, "row \(row): asked for in reverse order among 100")
            }
        }
    }

    /// A target is greedy when it is the first index of the row's largest logit (argmax's pick):
    /// against a Double argmax on random rows, and on exact ties between equal vocabulary
    /// entries in one tile and across tiles, where only the first of the tied entries is greedy.
    func testGreedyIsTheFirstIndexOfTheLargestLogit() throws {
        for packed in packings {
            let vocabulary = 5000, d = 16, count = 200
            var generator = SeededGenerator(seed: 5)
            // Entries within ±0.25 and hidden states within ±2 give logits within ±8; entries 100,
            // 150 (same tile) and 4196 (third tile) are all 0.5, so a hidden state of 2s gives
            // them 16 exactly, in any summation order.
            var embedding = (0..<(vocabulary * d)).map { _ in (Float(generator.unit()) * 2 - 1) * 0.25 }
            for tied in [100, 150, 4196] { for j in 0..<d { embedding[tied * d + j] = 0.5 } }
            var hidden = (0..<(count * d)).map { _ in (Float(generator.unit()) * 2 - 1) * 2 }
            for j in 0..<d { hidden[j] = 2 }
            let config = ModelConfig(architecture: "llama", vocabularySize: vocabulary, hiddenSize: d, headDim: 4,
                                     ropeBase: 10000, rmsEpsilon: 1e-5, contextLength: 64)
            var model = LlamaModel(config: config, tokenEmbedding: embedding, layers: [],
                                   outputNorm: [Float](repeating: 1, count: d), lmHead: nil)
            if packed { try model.prepare(for: .fp32) }
            let head = LanguageModelHead(model: model)

            // Row 0: the tie. Then each random row twice: its Double argmax, and another entry.
            var rows = [0, 0, 0, 0], targets = [100, 150, 4196, 7], expected = [true, false, false, false]
            for row in 1..<count {
                let logits = (0..<vocabulary).map { v in (0..<d).reduce(0.0) { $0 + Double(hidden[row * d + $1]) * Double(embedding[v * d + $1]) } }
                let best = logits.indices.max { logits[$0] < logits[$1] }!
                let runnerUp = logits.indices.filter { $0 != best }.map { logits[$0] }.max()!
                guard logits[best] - runnerUp > 1e-3 else { continue }   // too close for Float to tell
                rows += [row, row]
                targets += [best, (best + 1 + row * 37) % vocabulary]
                expected += [true, false]
            }
            XCTAssertGreaterThan(rows.count, 300)
            let scores = hidden.withUnsafeBufferPointer { head.tokenScores($0, rows: rows, targets: targets) }
            XCTAssertEqual(scores.map(\.isGreedy), expected, "packed \(packed)")
            let values = hidden.withUnsafeBufferPointer { head.logProbabilities($0, rows: rows, targets: targets) }
            XCTAssertEqual(scores.map(\.logProbability), values)
        }
    }
}
