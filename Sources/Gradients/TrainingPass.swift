import Foundation
import Kernels
import Runtime

/// Reverse-mode gradients of the next-token cross-entropy of a `LlamaModel`, optionally with
/// LoRA adapters on its projections.
///
/// The forward half is the inference forward pass's computation (the same kernels: RMSNorm,
/// projections through `WeightMatrix.product`, rotate-half RoPE, causal grouped-query attention,
/// SwiGLU, LM head) keeping every activation the backward half needs, one array per activation
/// per layer. The backward half walks the layers in reverse with the transposed products through
/// OpenBLAS. Sequences are packed row after row, each attending only to itself.
/// Not thread-safe: use one per thread.
public final class TrainingPass {
    public let model: LlamaModel
    private var rope: RoPETable

    public init(model: LlamaModel) {
        self.model = model
        rope = RoPETable(headDim: model.config.headDim, base: model.config.ropeBase)
    }

    /// Σ of the cross-entropy over the batch's target positions and their number (no gradients).
    public func loss(_ batch: [TrainingSequence], lora: LoRA? = nil) -> (sum: Double, targets: Int) {
        let forward = run(batch, lora: lora)
        let head = self.head(forward, batch: batch, scale: 0, backward: false)
        return (head.loss, head.targets)
    }

    /// The gradient of `scale · Σ cross-entropy` over the batch's target positions with respect to
    /// `target` (`.adapters` needs `lora`). `scale = 1 / targets` gives the mean's gradient.
    /// With `eachLayer`, each layer's weight gradient is handed over as soon as it is complete
    /// (last layer first) and not kept, so only one layer's gradient is ever held (a 7B model's
    /// would take 26 GB); `weights` is then nil.
    public func gradients(_ batch: [TrainingSequence], target: GradientTarget, lora: LoRA? = nil, scale: Float,
                          eachLayer: ((Int, LayerWeightGradients) -> Void)? = nil) -> BatchGradients {
        precondition(target == .weights || lora != nil, "adapter gradients need adapters")
        var forward = run(batch, lora: lora)
        let head = self.head(forward, batch: batch, scale: scale, backward: true)
        var dx = head.dHidden
        var kept: [LayerWeightGradients?] = Array(repeating: nil, count: model.layers.count)
        var adapters = target == .adapters ? [Float](repeating: 0, count: lora!.values.count) : nil
        for l in model.layers.indices.reversed() {
            var weights = target == .weights ? LayerWeightGradients(zerosLike: model.layers[l]) : nil
            backward(layer: l, forward.layers[l], forward: forward, dx: &dx, lora: lora,
                     weights: &weights, adapters: &adapters)
            forward.layers[l] = .released
            if let weights {
                if let eachLayer { eachLayer(l, weights) } else { kept[l] = weights }
            }
        }
        let weights = target == .weights && eachLayer == nil ? kept.map { $0! } : nil
        return BatchGradients(lossSum: head.loss, targets: head.targets, weights: weights, adapters: adapters)
    }

    // MARK: - Forward

    /// A layer's activations, rows = tokens of the batch.
    struct LayerActivations {
        var input: [Float]        // x entering the layer [rows, d]
        var normed: [Float]       // rmsNorm(x, attentionNorm) [rows, d]
        var qkv: [Float]          // projections, q and k rotated [rows, q + 2kv]
        var probabilities: [Float] // softmax(q kᵀ / sqrt(hd)) per (sequence, head), n × n each
        var attention: [Float]    // heads' outputs, the input of o_proj [rows, q]
        var middle: [Float]       // x after the attention block [rows, d]
        var ffnNormed: [Float]    // rmsNorm(middle, ffnNorm) [rows, d]
        var gateUp: [Float]       // [rows, 2f]
        var ffn: [Float]          // silu(gate) · up, the input of down_proj [rows, f]
        var adapterInputs: [[Float]] // x · Aᵀ of each of the layer's adapters [rows, rank]

        /// A layer whose backward pass is done.
        static let released = LayerActivations(input: [], normed: [], qkv: [], probabilities: [], attention: [], middle: [],
                                               ffnNormed: [], gateUp: [], ffn: [], adapterInputs: [])
    }

    struct Forward {
        var layers: [LayerActivations]
        var final: [Float]        // x after the last layer [rows, d]
        var hidden: [Float]       // rmsNorm(final, outputNorm) [rows, d]
        var rows: Int
        var firstRow: [Int]
        var positions: [Int]
        var probabilityOffset: [Int] // per sequence, where its heads' n × n blocks start
    }

    private func run(_ batch: [TrainingSequence], lora: LoRA?) -> Forward {
        let config = model.config
        let d = config.hiddenSize, hd = config.headDim
        var firstRow: [Int] = [], positions: [Int] = [], probabilityOffset: [Int] = []
        var rows = 0, blocks = 0
        for s in batch {
            firstRow.append(rows)
            positions += Array(0..<s.tokens.count)
            probabilityOffset.append(blocks)
            rows += s.tokens.count
            blocks += s.tokens.count * s.tokens.count
        }
        rope.ensure(positions: batch.map(\.tokens.count).max() ?? 0)

        var x = [Float](repeating: 0, count: rows * d)
        model.tokenEmbedding.withUnsafeBufferPointer { embedding in
            var row = 0
            for s in batch {
                for t in s.tokens {
                    precondition(t >= 0 && t < config.vocabularySize, "token id \(t) outside the vocabulary")
                    for i in 0..<d { x[row * d + i] = embedding[t * d + i] }
                    row += 1
                }
            }
        }

        var layers: [LayerActivations] = []
        for (l, layer) in model.layers.enumerated() {
            let q = layer.qWidth, kv = layer.kvWidth, f = layer.ffnWidth, width = q + 2 * kv
            var a = LayerActivations(input: x, normed: [], qkv: [], probabilities: [], attention: [], middle: [],
                                     ffnNormed: [], gateUp: [], ffn: [], adapterInputs: [])
            a.normed = rmsNorm(x, layer.attentionNorm, rows: rows)
            a.qkv = project(a.normed, rows: rows, layer.qkv, lora: lora, l, .qkv, inputs: &a.adapterInputs)
            a.qkv.withUnsafeMutableBufferPointer {
                rope.apply($0.baseAddress!, rowStride: width, heads: layer.queryHeads + layer.kvHeads, positions: positions)
            }
            a.probabilities = [Float](repeating: 0, count: blocks * layer.queryHeads)
            a.attention = [Float](repeating: 0, count: rows * q)
            attend(layer, batch: batch, firstRow: firstRow, probabilityOffset: probabilityOffset,
                   qkv: a.qkv, probabilities: &a.probabilities, into: &a.attention, headDim: hd)
            let o = project(a.attention, rows: rows, layer.output, lora: lora, l, .output, inputs: &a.adapterInputs)
            for i in x.indices { x[i] += o[i] }
            a.middle = x
            a.ffnNormed = rmsNorm(x, layer.ffnNorm, rows: rows)
            a.gateUp = project(a.ffnNormed, rows: rows, layer.gateUp, lora: lora, l, .gateUp, inputs: &a.adapterInputs)
            a.ffn = [Float](repeating: 0, count: rows * f)
            a.gateUp.withUnsafeBufferPointer { g in
                a.ffn.withUnsafeMutableBufferPointer { RowOps.swiGLU(g.baseAddress!, into: $0.baseAddress!, rows: rows, width: f) }
            }
            let down = project(a.ffn, rows: rows, layer.down, lora: lora, l, .down, inputs: &a.adapterInputs)
            for i in x.indices { x[i] += down[i] }
            layers.append(a)
        }
        return Forward(layers: layers, final: x, hidden: rmsNorm(x, model.outputNorm, rows: rows), rows: rows,
                       firstRow: firstRow, positions: positions, probabilityOffset: probabilityOffset)
    }

    private func rmsNorm(_ x: [Float], _ weight: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer {
                RowOps.rmsNorm(x.baseAddress!, weight: weight, eps: model.config.rmsEpsilon, into: $0.baseAddress!,
                               rows: rows, width: weight.count)
            }
        }
        return out
    }

    /// `input · Wᵀ + b`, plus each adapter's `scale · (input · Aᵀ) · Bᵀ` on its rows; the adapters'
    /// `input · Aᵀ` are appended to `inputs` for the backward pass.
    private func project(_ input: [Float], rows: Int, _ linear: Linear, lora: LoRA?, _ layer: Int,
                         _ projection: Projection, inputs: inout [[Float]]) -> [Float] {
        let out = linear.outFeatures, columns = linear.inFeatures
        var y = [Float](repeating: 0, count: rows * out)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                linear.weight.product(x.baseAddress!, m: rows, into: y.baseAddress!, ldc: out, beta: 0)
                if let bias = linear.bias { RowOps.addBias(bias, to: y.baseAddress!, rows: rows) }
                guard let lora else { return }
                lora.values.withUnsafeBufferPointer { v in
                    for adapter in lora.adapters(layer: layer, projection) {
                        var u = [Float](repeating: 0, count: rows * lora.rank)
                        u.withUnsafeMutableBufferPointer { u in
                            Matmul.timesTransposed(x.baseAddress!, lda: columns, m: rows, k: columns,
                                                   v.baseAddress! + adapter.offsetA, ldw: columns, n: lora.rank,
                                                   u.baseAddress!, ldc: lora.rank)
                            Matmul.timesTransposed(u.baseAddress!, lda: lora.rank, m: rows, k: lora.rank,
                                                   v.baseAddress! + adapter.offsetB, ldw: lora.rank, n: adapter.rows.count,
                                                   y.baseAddress! + adapter.rows.lowerBound, ldc: out,
                                                   alpha: lora.scale, beta: 1)
                        }
                        inputs.append(u)
                    }
                }
            }
        }
        return y
    }

    /// Causal grouped-query attention of every (sequence, query head), keeping the probabilities.
    private func attend(_ layer: DecoderLayer, batch: [TrainingSequence], firstRow: [Int], probabilityOffset: [Int],
                        qkv: [Float], probabilities: inout [Float], into attention: inout [Float], headDim hd: Int) {
        let q = layer.qWidth, kv = layer.kvWidth, width = q + 2 * kv, heads = layer.queryHeads
        let scale = 1 / Float(hd).squareRoot()
        let pairs = batch.count * heads
        qkv.withUnsafeBufferPointer { qkv in
            probabilities.withUnsafeMutableBufferPointer { probabilities in
                attention.withUnsafeMutableBufferPointer { attention in
                    let qkv = qkv.baseAddress!, probabilities = probabilities.baseAddress!, attention = attention.baseAddress!
                    Parallel.forEach(pairs) { pair in
                        let i = pair / heads, h = pair % heads, n = batch[i].tokens.count
                        let g = layer.kvHeadOfQueryHead[h]
                        let base = qkv + firstRow[i] * width
                        let p = probabilities + (probabilityOffset[i] * heads + h * n * n)
                        Matmul.serial(base + h * hd, lda: width, m: n, k: hd, base + q + g * hd, ldb: width, n: n,
                                      transposeB: true, p, ldc: n, alpha: scale)
                        for t in 0..<n { RowOps.softmaxPrefix(p + t * n, visible: t + 1, count: n) }
                        Matmul.serial(p, lda: n, m: n, k: n, base + q + kv + g * hd, ldb: width, n: hd,
                                      transposeB: false, attention + firstRow[i] * q + h * hd, ldc: q)
                    }
                }
            }
        }
    }

    // MARK: - Loss

    /// The cross-entropy of every target position and, when `backward`, `∂(scale · Σ loss)/∂hidden`.
    private func head(_ forward: Forward, batch: [TrainingSequence], scale: Float, backward: Bool)
        -> (loss: Double, targets: Int, dHidden: [Float]) {
        let d = model.config.hiddenSize, vocabulary = model.config.vocabularySize
        var rows: [Int] = [], labels: [Int] = []
        for (i, s) in batch.enumerated() {
            for (t, target) in s.targets.enumerated() where target >= 0 {
                precondition(target < vocabulary, "target id \(target) outside the vocabulary")
                rows.append(forward.firstRow[i] + t)
                labels.append(target)
            }
        }
        var dHidden = [Float](repeating: 0, count: backward ? forward.rows * d : 0)
        var loss = 0.0
        let chunk = 64
        var logits = [Float](repeating: 0, count: chunk * vocabulary)
        var gathered = [Float](repeating: 0, count: chunk * d)
        var dGathered = [Float](repeating: 0, count: chunk * d)
        let embedding = model.lmHead ?? model.tokenEmbedding
        embedding.withUnsafeBufferPointer { e in
            forward.hidden.withUnsafeBufferPointer { hidden in
                var start = 0
                while start < rows.count {
                    let count = min(chunk, rows.count - start)
                    for c in 0..<count {
                        for i in 0..<d { gathered[c * d + i] = hidden[rows[start + c] * d + i] }
                    }
                    logits.withUnsafeMutableBufferPointer { logits in
                        Matmul.timesTransposed(gathered, lda: d, m: count, k: d, e.baseAddress!, ldw: d, n: vocabulary,
                                               logits.baseAddress!, ldc: vocabulary)
                        var losses = [Double](repeating: 0, count: count)
                        let l = logits.baseAddress!
                        losses.withUnsafeMutableBufferPointer { losses in
                            Parallel.forRanges(count) { range in
                                for c in range {
                                    losses[c] = BackwardOps.crossEntropy(logits: l + c * vocabulary, count: vocabulary,
                                                                         target: labels[start + c], scale: scale)
                                }
                            }
                        }
                        loss += losses.reduce(0, +)
                        if backward {
                            dGathered.withUnsafeMutableBufferPointer {
                                Matmul.general(l, lda: vocabulary, transposeA: false, e.baseAddress!, ldb: d, transposeB: false,
                                               m: count, n: d, k: vocabulary, $0.baseAddress!, ldc: d)
                            }
                            for c in 0..<count {
                                for i in 0..<d { dHidden[rows[start + c] * d + i] += dGathered[c * d + i] }
                            }
                        }
                    }
                    start += count
                }
            }
        }
        guard backward else { return (loss, rows.count, []) }
        // Through the final norm.
        var dx = [Float](repeating: 0, count: forward.rows * d)
        normBackward(forward.final, model.outputNorm, dy: dHidden, into: &dx, rows: forward.rows)
        return (loss, rows.count, dx)
    }

    // MARK: - Backward

    private func normBackward(_ x: [Float], _ weight: [Float], dy: [Float], into dx: inout [Float], rows: Int) {
        let width = weight.count, eps = model.config.rmsEpsilon
        x.withUnsafeBufferPointer { x in
            dy.withUnsafeBufferPointer { dy in
                weight.withUnsafeBufferPointer { g in
                    dx.withUnsafeMutableBufferPointer { dx in
                        let x = x.baseAddress!, dy = dy.baseAddress!, g = g.baseAddress!, dx = dx.baseAddress!
                        Parallel.forRanges(rows, minimumPerRange: 16) { range in
                            for r in range {
                                BackwardOps.rmsNorm(x: x + r * width, weight: g, eps: eps, dy: dy + r * width,
                                                    addingInto: dx + r * width, width: width)
                            }
                        }
                    }
                }
            }
        }
    }

    private func backward(layer l: Int, _ a: LayerActivations, forward: Forward, dx: inout [Float], lora: LoRA?,
                          weights: inout LayerWeightGradients?, adapters: inout [Float]?) {
        let layer = model.layers[l], rows = forward.rows
        let q = layer.qWidth, kv = layer.kvWidth, f = layer.ffnWidth, width = q + 2 * kv
        let adaptersPer: [Projection: Int] = [.qkv: 3, .output: 1, .gateUp: 2, .down: 1]
        func inputs(_ projection: Projection) -> ArraySlice<[Float]> {
            let first = [Projection.qkv, .output, .gateUp, .down].prefix { $0 != projection }.reduce(0) { $0 + adaptersPer[$1]! }
            return lora == nil ? [] : a.adapterInputs[first..<(first + adaptersPer[projection]!)]
        }

        // Feed-forward block: x_out = middle + down(ffn).
        var dFFN = linearBackward(dy: dx, input: a.ffn, rows: rows, layer.down, lora: lora, l, .down,
                                  adapterInputs: inputs(.down), weights: &weights, adapters: &adapters)
        var dGateUp = [Float](repeating: 0, count: rows * 2 * f)
        a.gateUp.withUnsafeBufferPointer { g in
            dFFN.withUnsafeMutableBufferPointer { dh in
                dGateUp.withUnsafeMutableBufferPointer { out in
                    let g = g.baseAddress!, dh = dh.baseAddress!, out = out.baseAddress!
                    Parallel.forRanges(rows, minimumPerRange: 8) { range in
                        for r in range {
                            BackwardOps.swiGLU(gateUp: g + r * 2 * f, dh: dh + r * f, into: out + r * 2 * f, width: f)
                        }
                    }
                }
            }
        }
        dFFN = []
        let dFFNNormed = linearBackward(dy: dGateUp, input: a.ffnNormed, rows: rows, layer.gateUp, lora: lora, l, .gateUp,
                                        adapterInputs: inputs(.gateUp), weights: &weights, adapters: &adapters)
        normBackward(a.middle, layer.ffnNorm, dy: dFFNNormed, into: &dx, rows: rows)

        // Attention block: middle = input + o(attention).
        let dAttention = linearBackward(dy: dx, input: a.attention, rows: rows, layer.output, lora: lora, l, .output,
                                        adapterInputs: inputs(.output), weights: &weights, adapters: &adapters)
        var dQKV = [Float](repeating: 0, count: rows * width)
        attentionBackward(layer, forward: forward, a, dAttention: dAttention, into: &dQKV)
        dQKV.withUnsafeMutableBufferPointer {
            rope.apply($0.baseAddress!, rowStride: width, heads: layer.queryHeads + layer.kvHeads,
                       positions: forward.positions, inverse: true)
        }
        let dNormed = linearBackward(dy: dQKV, input: a.normed, rows: rows, layer.qkv, lora: lora, l, .qkv,
                                     adapterInputs: inputs(.qkv), weights: &weights, adapters: &adapters)
        normBackward(a.input, layer.attentionNorm, dy: dNormed, into: &dx, rows: rows)
    }

    /// Backward through `y = x · Wᵀ + b (+ adapters)`: returns `∂L/∂x`; adds `∂L/∂W` or the
    /// adapters' gradients to their accumulators.
    private func linearBackward(dy: [Float], input: [Float], rows: Int, _ linear: Linear, lora: LoRA?, _ layer: Int,
                                _ projection: Projection, adapterInputs: ArraySlice<[Float]>,
                                weights: inout LayerWeightGradients?, adapters: inout [Float]?) -> [Float] {
        let out = linear.outFeatures, columns = linear.inFeatures
        var dx = [Float](repeating: 0, count: rows * columns)
        dy.withUnsafeBufferPointer { dy in
            input.withUnsafeBufferPointer { x in
                dx.withUnsafeMutableBufferPointer { dxBuffer in
                    let dy = dy.baseAddress!, x = x.baseAddress!, dxp = dxBuffer.baseAddress!
                    linear.weight.withFloats { w in
                        Matmul.general(dy, lda: out, transposeA: false, w.baseAddress!, ldb: columns, transposeB: false,
                                       m: rows, n: columns, k: out, dxp, ldc: columns)
                    }
                    if weights != nil {
                        weights!.withGradient(projection) { dw in
                            Matmul.general(dy, lda: out, transposeA: true, x, ldb: columns, transposeB: false,
                                           m: out, n: columns, k: rows, dw.baseAddress!, ldc: columns, beta: 1)
                        }
                    }
                    guard let lora else { return }
                    let r = lora.rank
                    lora.values.withUnsafeBufferPointer { v in
                        let v = v.baseAddress!
                        for (adapter, u) in zip(lora.adapters(layer: layer, projection), adapterInputs) {
                            var du = [Float](repeating: 0, count: rows * r)
                            du.withUnsafeMutableBufferPointer { du in
                                let du = du.baseAddress!, dyRows = dy + adapter.rows.lowerBound
                                // du = scale · dy[:, rows] · B; dx += du · A.
                                Matmul.general(dyRows, lda: out, transposeA: false, v + adapter.offsetB, ldb: r,
                                               transposeB: false, m: rows, n: r, k: adapter.rows.count, du, ldc: r,
                                               alpha: lora.scale)
                                Matmul.general(du, lda: r, transposeA: false, v + adapter.offsetA, ldb: columns,
                                               transposeB: false, m: rows, n: columns, k: r, dxp, ldc: columns, beta: 1)
                                guard adapters != nil else { return }
                                adapters!.withUnsafeMutableBufferPointer { g in
                                    let g = g.baseAddress!
                                    // dB += scale · dy[:, rows]ᵀ · u; dA += duᵀ · x.
                                    u.withUnsafeBufferPointer { u in
                                        Matmul.general(dyRows, lda: out, transposeA: true, u.baseAddress!, ldb: r,
                                                       transposeB: false, m: adapter.rows.count, n: r, k: rows,
                                                       g + adapter.offsetB, ldc: r, alpha: lora.scale, beta: 1)
                                    }
                                    Matmul.general(du, lda: r, transposeA: true, x, ldb: columns, transposeB: false,
                                                   m: r, n: columns, k: rows, g + adapter.offsetA, ldc: columns, beta: 1)
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// Backward through the attention of every (sequence, KV head): the query heads sharing a KV
    /// head add into its key and value gradients, so a KV head's group runs on one core.
    private func attentionBackward(_ layer: DecoderLayer, forward: Forward, _ a: LayerActivations,
                                   dAttention: [Float], into dQKV: inout [Float]) {
        let q = layer.qWidth, kv = layer.kvWidth, width = q + 2 * kv, heads = layer.queryHeads, hd = layer.headDim
        let scale = 1 / Float(hd).squareRoot()
        let sequences = forward.firstRow.count, kvHeads = layer.kvHeads
        let longest = zip(forward.firstRow, forward.firstRow.dropFirst() + [forward.rows]).map { $1 - $0 }.max() ?? 0
        a.qkv.withUnsafeBufferPointer { qkv in
            a.probabilities.withUnsafeBufferPointer { probabilities in
                dAttention.withUnsafeBufferPointer { dAttention in
                    dQKV.withUnsafeMutableBufferPointer { dQKV in
                        let qkv = qkv.baseAddress!, probabilities = probabilities.baseAddress!
                        let dAttention = dAttention.baseAddress!, dQKV = dQKV.baseAddress!
                        Parallel.forEach(sequences * kvHeads) { pair in
                            let i = pair / kvHeads, g = pair % kvHeads
                            let first = forward.firstRow[i]
                            let n = (i + 1 < sequences ? forward.firstRow[i + 1] : forward.rows) - first
                            let dS = UnsafeMutablePointer<Float>.allocate(capacity: max(1, longest * longest))
                            defer { dS.deallocate() }
                            let base = qkv + first * width, dBase = dQKV + first * width
                            for h in 0..<heads where layer.kvHeadOfQueryHead[h] == g {
                                let p = probabilities + (forward.probabilityOffset[i] * heads + h * n * n)
                                let dOut = dAttention + first * q + h * hd
                                // dV += Pᵀ · dOut
                                Matmul.serial(p, lda: n, m: n, k: n, dOut, ldb: q, n: hd, transposeB: false,
                                              dBase + q + kv + g * hd, ldc: width, beta: 1, transposeA: true)
                                // dP = dOut · Vᵀ, then through the softmax
                                Matmul.serial(dOut, lda: q, m: n, k: hd, base + q + kv + g * hd, ldb: width, n: n,
                                              transposeB: true, dS, ldc: n)
                                for t in 0..<n {
                                    BackwardOps.softmax(p: p + t * n, gradient: dS + t * n, visible: t + 1, count: n)
                                }
                                // dQ = scale · dS · K;  dK += scale · dSᵀ · Q
                                Matmul.serial(dS, lda: n, m: n, k: n, base + q + g * hd, ldb: width, n: hd,
                                              transposeB: false, dBase + h * hd, ldc: width, alpha: scale)
                                Matmul.serial(dS, lda: n, m: n, k: n, base + h * hd, ldb: width, n: hd,
                                              transposeB: false, dBase + q + g * hd, ldc: width, alpha: scale, beta: 1,
                                              transposeA: true)
                            }
                        }
                    }
                }
            }
        }
    }
}
