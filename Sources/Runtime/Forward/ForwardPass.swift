import Foundation
import Kernels

/// Tokens to append to one KV-cache slot; their positions continue from the slot's length.
public struct SequenceInput: Sendable {
    public var slot: Int
    public var tokens: [Int]

    public init(slot: Int, tokens: [Int]) {
        self.slot = slot
        self.tokens = tokens
    }
}

/// The forward pass of a `LlamaModel`, with one buffer per activation (after llama2.c's `run.c`).
///
/// A batch is a list of sequences of any lengths, packed row after row with no padding; each
/// appends to its own KV-cache slot. The result is the final-norm hidden state of every input
/// token; `LanguageModelHead` turns chosen rows of it into logits or log-probabilities.
/// The projections go through their `WeightMatrix` (OpenBLAS, or oneDNN with the weights packed
/// once), attention's products through OpenBLAS; row-wise work is spread over the cores.
/// Not thread-safe: use one per thread.
public final class ForwardPass {
    public let model: LlamaModel
    // Activations, rows = tokens of the batch.
    private let x = Buffer()        // residual stream [rows, hidden]
    private let normed = Buffer()   // rmsNorm output [rows, hidden]
    private let qkv = Buffer()      // [rows, q + k + v widths]
    private let attention = Buffer() // heads' outputs, the input of o_proj [rows, qWidth]
    private let gateUp = Buffer()   // [rows, 2 * ffnWidth]
    private let ffn = Buffer()      // silu(gate) * up, the input of down_proj [rows, ffnWidth]
    private let scores: [Buffer]    // attention scores, one per worker
    private let alignedInput = Buffer()  // a projection's input at its aligned rows [layout.count, in]
    private let alignedOutput = Buffer() // its output there [layout.count, out]
    private var rope: RoPETable
    /// Where the last batch's rows sit in the sgemm products (`AlignedRows`), which the LM head
    /// takes to keep a row's logits apart from the rows beside it.
    public private(set) var layout = AlignedRows(lengths: [], phases: [])

    public init(model: LlamaModel) {
        self.model = model
        scores = (0..<Parallel.cores).map { _ in Buffer() }
        rope = RoPETable(headDim: model.config.headDim, base: model.config.ropeBase)
    }

    /// Runs `batch` through the model, appending to `cache`, and returns the final-norm hidden
    /// states `[rows, hidden]` in input order (valid until the next call).
    public func callAsFunction(_ batch: [SequenceInput], cache: KVCache,
                               observer: ActivationObserver? = nil) -> UnsafeBufferPointer<Float> {
        let d = model.config.hiddenSize
        let hd = model.config.headDim
        let rows = batch.reduce(0) { $0 + $1.tokens.count }
        precondition(Set(batch.map(\.slot)).count == batch.count, "a slot appears twice in one batch")
        let longest = batch.map { cache.lengths[$0.slot] + $0.tokens.count }.max() ?? 0
        layout = AlignedRows(lengths: batch.map(\.tokens.count), phases: batch.map { cache.lengths[$0.slot] + Self.phase(ofLength: $0.tokens.count) })
        cache.ensureCapacity(longest)
        rope.ensure(positions: longest)

        // Row bookkeeping: first row and start position of each sequence.
        var firstRow: [Int] = []
        var positions = [Int](repeating: 0, count: rows)
        var r = 0
        for s in batch {
            firstRow.append(r)
            let start = cache.lengths[s.slot]
            for i in 0..<s.tokens.count { positions[r + i] = start + i }
            r += s.tokens.count
        }

        let x = self.x.reserve(rows * d)
        let normed = self.normed.reserve(rows * d)
        var row = 0
        model.tokenEmbedding.withUnsafeBufferPointer { embedding in
            for s in batch {
                for t in s.tokens {
                    precondition(t >= 0 && t < model.config.vocabularySize, "token id \(t) outside the vocabulary")
                    (x + row * d).update(from: embedding.baseAddress! + t * d, count: d)
                    row += 1
                }
            }
        }

        for (l, layer) in model.layers.enumerated() {
            let qWidth = layer.qWidth, kvWidth = layer.kvWidth, fw = layer.ffnWidth
            let qkvWidth = qWidth + 2 * kvWidth
            let qkv = self.qkv.reserve(rows * qkvWidth)
            let attention = self.attention.reserve(rows * qWidth)
            let gateUp = self.gateUp.reserve(rows * 2 * fw)
            let ffn = self.ffn.reserve(rows * fw)

            // Attention block.
            RowOps.rmsNorm(x, weight: layer.attentionNorm, eps: model.config.rmsEpsilon, into: normed, rows: rows, width: d)
            project(normed, rows: rows, layer.qkv, into: qkv, accumulate: false)
            rope.apply(qkv, rowStride: qkvWidth, heads: layer.queryHeads + layer.kvHeads, positions: positions)
            for (i, s) in batch.enumerated() {
                let keys = cache.keys(layer: l, slot: s.slot), values = cache.values(layer: l, slot: s.slot)
                let start = cache.lengths[s.slot]
                for t in 0..<s.tokens.count {
                    let src = qkv + (firstRow[i] + t) * qkvWidth + qWidth
                    (keys + (start + t) * kvWidth).update(from: src, count: kvWidth)
                    (values + (start + t) * kvWidth).update(from: src + kvWidth, count: kvWidth)
                }
            }
            attend(layer: l, layer, batch: batch, firstRow: firstRow, cache: cache,
                   qkv: qkv, qkvWidth: qkvWidth, into: attention, headDim: hd)
            observer?.observe(.attentionOutputInput, layer: l, rows: attention, count: rows, width: qWidth)
            project(attention, rows: rows, layer.output, into: x, accumulate: true)
            observer?.observe(.ffnNormInput, layer: l, rows: x, count: rows, width: d)

            // Feed-forward block.
            RowOps.rmsNorm(x, weight: layer.ffnNorm, eps: model.config.rmsEpsilon, into: normed, rows: rows, width: d)
            project(normed, rows: rows, layer.gateUp, into: gateUp, accumulate: false)
            RowOps.swiGLU(gateUp, into: ffn, rows: rows, width: fw)
            observer?.observe(.downProjInput, layer: l, rows: ffn, count: rows, width: fw)
            project(ffn, rows: rows, layer.down, into: x, accumulate: true)
            observer?.observe(.blockOutput, layer: l, rows: x, count: rows, width: d)
        }
        for s in batch { cache.advance(slot: s.slot, by: s.tokens.count) }

        RowOps.rmsNorm(x, weight: model.outputNorm, eps: model.config.rmsEpsilon, into: normed, rows: rows, width: d)
        return UnsafeBufferPointer(start: normed, count: rows * d)
    }

    /// `out = input · Wᵀ + b`, or `out += input · Wᵀ + b` when accumulating (the residual adds).
    /// Through sgemm on a CPU whose kernels tell rows apart by their index in the call, the rows
    /// are multiplied at their aligned places (`layout`: each sequence from an index whose remainder
    /// depends on the sequence alone), so that a token's result does not depend on the sequences
    /// batched with it; oneDNN's packed products do not need it.
    private func project(_ input: UnsafePointer<Float>, rows: Int, _ linear: Linear,
                         into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if layout.keepsPackedRows || linear.weight.packing != nil {
            linear.weight.product(input, m: rows, into: out, ldc: linear.outFeatures, beta: accumulate ? 1 : 0)
        } else {
            let k = linear.inFeatures, n = linear.outFeatures
            let a = alignedInput.reserve(layout.count * k), c = alignedOutput.reserve(layout.count * n)
            layout.scatter(input, width: k, into: a)
            linear.weight.product(a, m: layout.count, into: c, ldc: n, beta: 0)
            layout.gather(c, width: n, into: out, ldPacked: n, accumulate: accumulate)
        }
        if let bias = linear.bias { RowOps.addBias(bias, to: out, rows: rows) }
    }

    /// Causal grouped-query attention of every (sequence, query head) pair, spread over the cores.
    /// Each sequence sees its slot's cached keys plus its own. Its queries go in blocks of
    /// `queryBlock` rows, each block's two BLAS products covering only the keys its last row sees,
    /// so that the masked half of the score matrix is mostly never computed.
    private func attend(layer l: Int, _ layer: DecoderLayer, batch: [SequenceInput], firstRow: [Int],
                        cache: KVCache, qkv: UnsafeMutablePointer<Float>, qkvWidth: Int,
                        into attention: UnsafeMutablePointer<Float>, headDim hd: Int) {
        let qWidth = layer.qWidth, kvWidth = layer.kvWidth
        let scale = 1 / Float(hd).squareRoot()
        let pairs = batch.count * layer.queryHeads
        var largest = 0
        for s in batch { largest = max(largest, min(s.tokens.count, Self.queryBlock) * (cache.lengths[s.slot] + s.tokens.count)) }
        let workers = min(scores.count, pairs)
        let scratch = scores.prefix(workers).map { $0.reserve(largest) }
        Parallel.forEach(workers) { w in
            let buffer = scratch[w]
            var pair = w
            while pair < pairs {
                let i = pair / layer.queryHeads, h = pair % layer.queryHeads
                pair += workers
                let s = batch[i]
                let n = s.tokens.count, start = cache.lengths[s.slot]
                let g = layer.kvHeadOfQueryHead[h]
                let keys = cache.keys(layer: l, slot: s.slot) + g * hd, values = cache.values(layer: l, slot: s.slot) + g * hd
                var t0 = 0
                while t0 < n {
                    let rows = min(Self.queryBlock, n - t0), seen = start + t0 + rows
                    let q = qkv + (firstRow[i] + t0) * qkvWidth + h * hd
                    Matmul.serial(q, lda: qkvWidth, m: rows, k: hd, keys, ldb: kvWidth, n: seen, transposeB: true,
                                  buffer, ldc: seen, alpha: scale)
                    for t in 0..<rows {
                        // Token t0 + t sees keys 0...start+t0+t; the rest of its row is zeroed after the softmax.
                        RowOps.softmaxPrefix(buffer + t * seen, visible: start + t0 + t + 1, count: seen)
                    }
                    Matmul.serial(buffer, lda: seen, m: rows, k: seen, values, ldb: kvWidth, n: hd, transposeB: false,
                                  attention + (firstRow[i] + t0) * qWidth + h * hd, ldc: qWidth)
                    t0 += rows
                }
            }
        }
    }

    /// A sequence's share of its phase in `layout`, from its length (splitmix64's finalizer, top 32
    /// bits): the same on every machine and in every batch, and for the same rows run through a
    /// one-layer model (`LayerwiseRunner`), so that sequences from the same position (windows,
    /// contexts) start at varied remainders.
    static func phase(ofLength length: Int) -> Int {
        var z = UInt64(length) &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return Int((z ^ (z >> 31)) >> 32)
    }

    /// Query rows per block of `attend`.
    static let queryBlock = 32
}
