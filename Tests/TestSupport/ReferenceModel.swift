import Foundation
import Gradients
import Runtime

/// A Float64 re-implementation of the LLaMA forward pass and loss, written plainly with loops
/// and independent of the runtime, so finite differences of its loss are accurate to ~1e-10.
public struct ReferenceModel {
    struct Layer {
        var attentionNorm: [Double], ffnNorm: [Double]
        var qkv: [Double], qkvBias: [Double]?, output: [Double], gateUp: [Double], down: [Double]
        var kvHeadOfQueryHead: [Int]
        var kvHeads: Int
        var ffnWidth: Int
    }

    var d: Int, headDim: Int, vocabulary: Int, eps: Double, ropeBase: Double
    /// Whether the projections (not the LM head) run as `--compute bf16` specifies: their weights
    /// and their inputs rounded to BF16 (nearest even), the sums exact.
    var bfloat16 = false
    var embedding: [Double], head: [Double], outputNorm: [Double]
    var layers: [Layer]

    /// The model, with `lora`'s adapters (their parameters `loraValues`, default the LoRA's own)
    /// merged into the weights in Float64.
    public init(_ model: LlamaModel, lora: LoRA? = nil, loraValues: [Double]? = nil, bfloat16: Bool = false) {
        self.bfloat16 = bfloat16
        d = model.config.hiddenSize
        headDim = model.config.headDim
        vocabulary = model.config.vocabularySize
        eps = Double(model.config.rmsEpsilon)
        ropeBase = model.config.ropeBase
        embedding = model.tokenEmbedding.map(Double.init)
        head = (model.lmHead ?? model.tokenEmbedding).map(Double.init)
        outputNorm = model.outputNorm.map(Double.init)
        layers = model.layers.map { l in
            Layer(attentionNorm: l.attentionNorm.map(Double.init), ffnNorm: l.ffnNorm.map(Double.init),
                  qkv: l.qkv.weight.floats.map(Double.init), qkvBias: l.qkv.bias?.map(Double.init),
                  output: l.output.weight.floats.map(Double.init), gateUp: l.gateUp.weight.floats.map(Double.init),
                  down: l.down.weight.floats.map(Double.init), kvHeadOfQueryHead: l.kvHeadOfQueryHead,
                  kvHeads: l.kvHeads, ffnWidth: l.ffnWidth)
        }
        if bfloat16 {
            for l in layers.indices {
                for keyPath in [\Layer.qkv, \Layer.output, \Layer.gateUp, \Layer.down] {
                    layers[l][keyPath: keyPath] = layers[l][keyPath: keyPath].map(Self.bfloat16)
                }
            }
        }
        guard let lora else { return }
        let v = loraValues ?? lora.values.map(Double.init)
        let scale = Double(lora.alpha) / Double(lora.rank)
        for adapter in lora.adapters {
            let columns = adapter.inFeatures
            func add(_ w: inout [Double]) {
                for (r, row) in adapter.rows.enumerated() {
                    for c in 0..<columns {
                        var sum = 0.0
                        for k in 0..<lora.rank {
                            sum += v[adapter.offsetB + r * lora.rank + k] * v[adapter.offsetA + k * columns + c]
                        }
                        w[row * columns + c] += scale * sum
                    }
                }
            }
            switch adapter.projection {
            case .qkv: add(&layers[adapter.layer].qkv)
            case .output: add(&layers[adapter.layer].output)
            case .gateUp: add(&layers[adapter.layer].gateUp)
            case .down: add(&layers[adapter.layer].down)
            }
        }
    }

    /// The weight of `projection` in layer `l`, for perturbing.
    public subscript(layer l: Int, projection projection: Projection) -> [Double] {
        get {
            switch projection {
            case .qkv: layers[l].qkv
            case .output: layers[l].output
            case .gateUp: layers[l].gateUp
            case .down: layers[l].down
            }
        }
        set {
            switch projection {
            case .qkv: layers[l].qkv = newValue
            case .output: layers[l].output = newValue
            case .gateUp: layers[l].gateUp = newValue
            case .down: layers[l].down = newValue
            }
        }
    }

    static func rmsNorm(_ x: [Double], _ g: [Double], eps: Double) -> [Double] {
        let s = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + eps).squareRoot()
        return x.indices.map { x[$0] * s * g[$0] }
    }

    /// `x` as Float32, rounded to the nearest BF16 (ties to even), written out here rather than
    /// taken from the runtime.
    static func bfloat16(_ x: Double) -> Double {
        let bits = Float(x).bitPattern
        let lower = bits & 0xFFFF, upper = bits & 0xFFFF_0000
        let roundsUp = lower > 0x8000 || (lower == 0x8000 && upper & 0x1_0000 != 0)
        return Double(Float(bitPattern: roundsUp ? upper &+ 0x1_0000 : upper))
    }

    /// A projection: `linear` on BF16-rounded inputs when the model runs in BF16.
    func project(_ x: [Double], _ w: [Double], out: Int) -> [Double] {
        Self.linear(bfloat16 ? x.map(Self.bfloat16) : x, w, out: out)
    }

    static func linear(_ x: [Double], _ w: [Double], out: Int) -> [Double] {
        let n = x.count
        return (0..<out).map { o in (0..<n).reduce(0) { $0 + w[o * n + $1] * x[$1] } }
    }

    func rope(_ v: inout [Double], at offset: Int, position: Int) {
        let half = headDim / 2
        for i in 0..<half {
            let angle = Double(position) * Foundation.pow(ropeBase, -2 * Double(i) / Double(headDim))
            let a = v[offset + i], b = v[offset + i + half]
            v[offset + i] = a * cos(angle) - b * sin(angle)
            v[offset + i + half] = b * cos(angle) + a * sin(angle)
        }
    }

    /// Σ of the cross-entropy over the target positions of every sequence.
    public func lossSum(_ batch: [TrainingSequence]) -> Double {
        batch.reduce(0) { $0 + lossSum($1) }
    }

    public func lossSum(_ s: TrainingSequence) -> Double {
        var xs = s.tokens.map { t in Array(embedding[(t * d)..<((t + 1) * d)]) }
        let n = xs.count
        for layer in layers {
            let qWidth = layer.kvHeadOfQueryHead.count * headDim, kvWidth = layer.kvHeads * headDim
            var qkv = xs.map { project(Self.rmsNorm($0, layer.attentionNorm, eps: eps), layer.qkv, out: qWidth + 2 * kvWidth) }
            for t in 0..<n {
                if let b = layer.qkvBias { for i in b.indices { qkv[t][i] += b[i] } }
                for h in 0..<(layer.kvHeadOfQueryHead.count + layer.kvHeads) { rope(&qkv[t], at: h * headDim, position: t) }
            }
            var attention = [[Double]](repeating: [Double](repeating: 0, count: qWidth), count: n)
            for h in layer.kvHeadOfQueryHead.indices {
                let g = layer.kvHeadOfQueryHead[h]
                for t in 0..<n {
                    var scores = (0...t).map { u in
                        (0..<headDim).reduce(0) { $0 + qkv[t][h * headDim + $1] * qkv[u][qWidth + g * headDim + $1] }
                            / Double(headDim).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let total = scores.reduce(0, +)
                    for u in 0...t {
                        for i in 0..<headDim {
                            attention[t][h * headDim + i] += scores[u] / total * qkv[u][qWidth + kvWidth + g * headDim + i]
                        }
                    }
                }
            }
            for t in 0..<n {
                let o = project(attention[t], layer.output, out: d)
                for i in 0..<d { xs[t][i] += o[i] }
                let gu = project(Self.rmsNorm(xs[t], layer.ffnNorm, eps: eps), layer.gateUp, out: 2 * layer.ffnWidth)
                let h = (0..<layer.ffnWidth).map { gu[$0] / (1 + exp(-gu[$0])) * gu[layer.ffnWidth + $0] }
                let down = project(h, layer.down, out: d)
                for i in 0..<d { xs[t][i] += down[i] }
            }
        }
        var total = 0.0
        for t in 0..<n where s.targets[t] >= 0 {
            let logits = Self.linear(Self.rmsNorm(xs[t], outputNorm, eps: eps), head, out: vocabulary)
            let m = logits.max()!
            total += m + log(logits.reduce(0) { $0 + exp($1 - m) }) - logits[s.targets[t]]
        }
        return total
    }
}

extension ReferenceModel {
    /// A small random model: query heads of 4 dims reading `kvHeadOf`, FFN 12, vocabulary 19.
    public static func tinyModel(layers: Int = 2, kvHeadOf: [Int] = [0, 0, 1, 1], kvHeads: Int = 2, bias: Bool = false,
                                 tied: Bool = true, seed: UInt64 = 7) -> LlamaModel {
        var generator = SeededGenerator(seed: seed)
        func random(_ count: Int, _ scale: Float) -> [Float] {
            (0..<count).map { _ in (Float(generator.unit()) * 2 - 1) * scale }
        }
        let d = 8, hd = 4, f = 12, vocabulary = 19
        let q = kvHeadOf.count * hd, kv = kvHeads * hd
        func linear(_ out: Int, _ inputs: Int, bias hasBias: Bool = false) -> Linear {
            Linear(weight: random(out * inputs, 0.6), bias: hasBias ? random(out, 0.3) : nil, outFeatures: out, inFeatures: inputs)
        }
        let config = ModelConfig(architecture: "llama", vocabularySize: vocabulary, hiddenSize: d, headDim: hd,
                                 ropeBase: 10000, rmsEpsilon: 1e-5, contextLength: 64)
        let decoder = (0..<layers).map { _ in
            DecoderLayer(attentionNorm: random(d, 0.3).map { 1 + $0 }, q: linear(q, d, bias: bias), k: linear(kv, d, bias: bias),
                         v: linear(kv, d, bias: bias), output: linear(d, q), ffnNorm: random(d, 0.3).map { 1 + $0 },
                         gate: linear(f, d), up: linear(f, d), down: linear(d, f), kvHeadOfQueryHead: kvHeadOf, headDim: hd)
        }
        return LlamaModel(config: config, tokenEmbedding: random(vocabulary * d, 1), layers: decoder,
                          outputNorm: random(d, 0.3).map { 1 + $0 }, lmHead: tied ? nil : random(vocabulary * d, 1))
    }

    /// `(f(step) - f(-step)) / 2 step`.
    public static func centralDifference(_ f: (Double) -> Double, step: Double) -> Double {
        (f(step) - f(-step)) / (2 * step)
    }

    /// The central-difference gradient of the mean loss over `batch` with respect to every element
    /// of `projection`'s weight in layer `l` (step 1e-4).
    public func numericGradient(_ batch: [TrainingSequence], layer l: Int, _ projection: Projection) -> [Double] {
        let targets = Double(batch.reduce(0) { $0 + $1.targetCount })
        return self[layer: l, projection: projection].indices.map { i in
            Self.centralDifference({ h in
                var perturbed = self
                perturbed[layer: l, projection: projection][i] += h
                return perturbed.lossSum(batch) / targets
            }, step: 1e-4)
        }
    }
}
