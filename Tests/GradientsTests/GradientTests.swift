import Foundation
@testable import Gradients
import Runtime
import TestSupport
import XCTest

/// Gradients against central finite differences of a Float64 loss. Tolerances: the row kernels,
/// run in Float64, within 1e-7 of the differences (step 1e-5); the whole model's Float32 gradients
/// within 2e-4 · max|gradient| + 1e-6 of the differences of the Float64 reference loss (step 1e-4).
final class GradientTests: XCTestCase {
    /// Two packed sequences of different lengths; the second has its first targets masked.
    static let batch = [
        TrainingSequence.languageModeling([3, 1, 4, 1, 5, 9, 2, 6]),
        TrainingSequence.response([5, 3, 5, 8, 9, 7], responseStart: 3),
    ]

    func testRowKernelsMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 3)
        func random(_ n: Int) -> [Double] { (0..<n).map { _ in generator.unit() * 2 - 1 } }
        let n = 7, step = 1e-5
        // A fixed linear functional of the output turns each op into a scalar loss.
        let x = random(n), dy = random(n), g = random(n).map { Float(1 + $0 / 2) }
        let gateUp = random(2 * n).map { $0 * 3 }

        func rmsNorm(_ x: [Double]) -> Double {
            let s = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(n) + 1e-5).squareRoot()
            return (0..<n).reduce(0) { $0 + x[$1] * s * Double(g[$1]) * dy[$1] }
        }
        var dx = [Double](repeating: 0, count: n)
        BackwardOps.rmsNorm(x: x, weight: g, eps: 1e-5, dy: dy, addingInto: &dx, width: n)
        for i in 0..<n {
            let fd = ReferenceModel.centralDifference({ h in var y = x; y[i] += h; return rmsNorm(y) }, step: step)
            XCTAssertEqual(dx[i], fd, accuracy: 1e-7, "rmsNorm x[\(i)]")
        }

        func swiGLU(_ v: [Double]) -> Double {
            (0..<n).reduce(0) { $0 + v[$1] / (1 + exp(-v[$1])) * v[n + $1] * dy[$1] }
        }
        var dGateUp = [Double](repeating: 0, count: 2 * n)
        BackwardOps.swiGLU(gateUp: gateUp, dh: dy, into: &dGateUp, width: n)
        for i in 0..<(2 * n) {
            let fd = ReferenceModel.centralDifference({ h in var v = gateUp; v[i] += h; return swiGLU(v) }, step: step)
            XCTAssertEqual(dGateUp[i], fd, accuracy: 1e-7, "swiGLU input \(i)")
        }

        // Softmax over the first 5 of 7 entries.
        let visible = 5
        func softmax(_ s: [Double]) -> Double {
            let m = s[0..<visible].max()!, total = s[0..<visible].reduce(0) { $0 + exp($1 - m) }
            return (0..<visible).reduce(0) { $0 + exp(s[$1] - m) / total * dy[$1] }
        }
        let scores = random(n).map { $0 * 4 }
        let m = scores[0..<visible].max()!, total = scores[0..<visible].reduce(0) { $0 + exp($1 - m) }
        let p = (0..<n).map { $0 < visible ? exp(scores[$0] - m) / total : 0 }
        var ds = dy
        BackwardOps.softmax(p: p, gradient: &ds, visible: visible, count: n)
        for i in 0..<n {
            let fd = i < visible ? ReferenceModel.centralDifference({ h in var s = scores; s[i] += h; return softmax(s) }, step: step) : 0
            XCTAssertEqual(ds[i], fd, accuracy: 1e-7, "softmax score \(i)")
        }

        // Cross-entropy runs in Float32 on the logits (sums in Double): 1e-6 of the Float64 differences.
        let logits = random(11).map { Float($0 * 5) }
        func crossEntropy(_ z: [Double]) -> Double {
            let m = z.max()!
            return m + log(z.reduce(0) { $0 + exp($1 - m) }) - z[4]
        }
        var gradient = logits
        let loss = BackwardOps.crossEntropy(logits: &gradient, count: 11, target: 4, scale: 1)
        XCTAssertEqual(loss, crossEntropy(logits.map(Double.init)), accuracy: 1e-6)
        for i in 0..<11 {
            let fd = ReferenceModel.centralDifference({ h in var z = logits.map(Double.init); z[i] += h; return crossEntropy(z) }, step: step)
            XCTAssertEqual(Double(gradient[i]), fd, accuracy: 1e-6, "cross-entropy logit \(i)")
        }
    }

    func testInverseRoPEIsTheTransposeOfRoPE() {
        // <R u, v> = <u, Rᵀ v>: the backward pass rotates gradients back with `inverse`.
        var rope = RoPETable(headDim: 8, base: 10000)
        rope.ensure(positions: 40)
        var generator = SeededGenerator(seed: 5)
        let rows = 6, width = 24, positions = [0, 1, 7, 13, 28, 39]
        let u = (0..<(rows * width)).map { _ in Float(generator.unit() * 2 - 1) }
        let v = (0..<(rows * width)).map { _ in Float(generator.unit() * 2 - 1) }
        var ru = u, rv = v
        ru.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rowStride: width, heads: 3, positions: positions) }
        rv.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rowStride: width, heads: 3, positions: positions, inverse: true) }
        let left = zip(ru, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(u, rv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(left, right, accuracy: 1e-5)
        var back = ru
        back.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rowStride: width, heads: 3, positions: positions, inverse: true) }
        for i in u.indices { XCTAssertEqual(back[i], u[i], accuracy: 1e-6) }
    }

    func testLossIsTheInferencePathsLoss() {
        for model in [ReferenceModel.tinyModel(), ReferenceModel.tinyModel(kvHeadOf: [1, 0, 1], bias: true, tied: false)] {
            let training = TrainingPass(model: model).loss(Self.batch)
            // The inference path: ForwardPass + LanguageModelHead, one sequence per KV-cache slot.
            let forward = ForwardPass(model: model), head = LanguageModelHead(model: model)
            let cache = KVCache(model: model, slots: 2)
            let hidden = forward(Self.batch.enumerated().map { SequenceInput(slot: $0.offset, tokens: $0.element.tokens) }, cache: cache)
            var rows: [Int] = [], targets: [Int] = [], first = 0
            for s in Self.batch {
                for (t, target) in s.targets.enumerated() where target >= 0 { rows.append(first + t); targets.append(target) }
                first += s.tokens.count
            }
            let inference = -head.logProbabilities(hidden, rows: rows, targets: targets).reduce(0, +)
            XCTAssertEqual(training.targets, 7 + 3)
            XCTAssertEqual(training.sum, inference, accuracy: 1e-5 * inference)
            XCTAssertEqual(training.sum, ReferenceModel(model).lossSum(Self.batch), accuracy: 1e-5 * inference)
        }
    }

    func testWeightGradientsMatchFiniteDifferences() {
        for model in [ReferenceModel.tinyModel(), ReferenceModel.tinyModel(kvHeadOf: [1, 0, 1], bias: true, tied: false)] {
            let targets = Double(Self.batch.reduce(0) { $0 + $1.targetCount })
            let result = TrainingPass(model: model).gradients(Self.batch, target: .weights, scale: Float(1 / targets))
            let gradients = try! XCTUnwrap(result.weights)
            let reference = ReferenceModel(model)
            for l in model.layers.indices {
                for projection in Projection.allCases {
                    let analytic = gradients[l][projection].map(Double.init)
                    let numeric = reference.numericGradient(Self.batch, layer: l, projection)
                    let largest = numeric.map(abs).max()!
                    XCTAssertGreaterThan(largest, 1e-3, "layer \(l) \(projection): a gradient worth checking")
                    for i in analytic.indices {
                        XCTAssertEqual(analytic[i], numeric[i], accuracy: 2e-4 * largest + 1e-6, "layer \(l) \(projection)[\(i)]")
                    }
                }
            }
        }
    }

    func testAdapterGradientsMatchFiniteDifferences() {
        let model = ReferenceModel.tinyModel(kvHeadOf: [1, 0, 1], bias: true)
        var lora = LoRA(model: model, rank: 2, alpha: 4, seed: 11)
        // B starts at zero; give it values so A's gradient is not zero too.
        var generator = SeededGenerator(seed: 13)
        for adapter in lora.adapters {
            for i in 0..<(adapter.rows.count * lora.rank) { lora.values[adapter.offsetB + i] = Float(generator.unit() - 0.5) }
        }
        let targets = Double(Self.batch.reduce(0) { $0 + $1.targetCount })
        let result = TrainingPass(model: model).gradients(Self.batch, target: .adapters, lora: lora, scale: Float(1 / targets))
        let analytic = try! XCTUnwrap(result.adapters).map(Double.init)
        let values = lora.values.map(Double.init)
        let numeric = values.indices.map { i in
            ReferenceModel.centralDifference({ h in
                var v = values
                v[i] += h
                return ReferenceModel(model, lora: lora, loraValues: v).lossSum(Self.batch) / targets
            }, step: 1e-4)
        }
        let largest = numeric.map(abs).max()!
        for i in analytic.indices {
            XCTAssertEqual(analytic[i], numeric[i], accuracy: 2e-4 * largest + 1e-6, "adapter parameter \(i)")
        }
        // Merged into the weights, the adapters give the same loss without them.
        let adapted = TrainingPass(model: model).loss(Self.batch, lora: lora).sum
        XCTAssertEqual(TrainingPass(model: lora.merged(into: model)).loss(Self.batch).sum, adapted, accuracy: 1e-5 * adapted)
        XCTAssertEqual(ReferenceModel(model, lora: lora).lossSum(Self.batch), adapted, accuracy: 1e-5 * adapted)
        // A new LoRA (B = 0) changes nothing.
        let fresh = LoRA(model: model, rank: 2, alpha: 4, seed: 11)
        XCTAssertEqual(TrainingPass(model: model).loss(Self.batch, lora: fresh).sum, TrainingPass(model: model).loss(Self.batch).sum)
    }
}
