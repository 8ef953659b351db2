import Foundation
import Kernels

/// Logits and log-probabilities from final hidden states, only for the rows a caller asks for.
///
/// Log-probabilities never hold a full-vocabulary logit matrix: the vocabulary is cut into fixed
/// tiles, the cores take tiles in turn, and each tile's product covers all the requested rows (up
/// to `maxRows` per pass), so the LM head's weight is read once per pass rather than once per few
/// rows. Each (row, tile) keeps its maximum and its sum of shifted exponentials; the tiles are
/// merged in vocabulary order, so a row's result depends neither on the other rows nor on the
/// number of cores.
public final class LanguageModelHead {
    public let model: LlamaModel
    private let gathered = Buffer()
    private let logits = Buffer()
    private let tiles: [Buffer]
    /// Rows per logit product of `logits(_:rows:)`.
    private let chunkRows = 64
    /// Vocabulary entries per tile of `logProbabilities`.
    static let tileWidth = 2048
    /// Most rows per pass of `logProbabilities`; more are split into passes of equal size.
    static let maxRows = 1024

    public init(model: LlamaModel) {
        self.model = model
        tiles = (0..<Parallel.cores).map { _ in Buffer() }
    }

    /// For each (row, target): log p(target | row), i.e. `logit[target] - logsumexp(logits)`, in Double.
    /// With the `layout` of the forward call that made `hidden`, a row's result does not depend on
    /// the other rows asked for (see `tokenScores`).
    public func logProbabilities(_ hidden: UnsafeBufferPointer<Float>, rows: [Int], targets: [Int],
                                 layout: AlignedRows? = nil) -> [Double] {
        tokenScores(hidden, rows: rows, targets: targets, layout: layout).map(\.logProbability)
    }

    /// For each (row, target): log p(target | row), and whether the target is the row's greedy token.
    /// With `layout`, the forward call's `ForwardPass.layout`, each row is multiplied at an index
    /// of the head's product with the same remainder (modulo `layout.period`) as its aligned row,
    /// so that its result is the same bits whatever other rows are asked for with it; without it,
    /// rows are multiplied one after another.
    public func tokenScores(_ hidden: UnsafeBufferPointer<Float>, rows: [Int], targets: [Int],
                            layout: AlignedRows? = nil) -> [TokenScore] {
        precondition(rows.count == targets.count)
        let vocab = model.config.vocabularySize
        precondition(targets.allSatisfy { $0 >= 0 && $0 < vocab }, "target outside the vocabulary")
        var out: [TokenScore] = []
        out.reserveCapacity(rows.count)
        let passes = (rows.count + Self.maxRows - 1) / Self.maxRows
        for pass in 0..<passes {
            let first = pass * rows.count / passes, last = (pass + 1) * rows.count / passes
            out += tokenScores(hidden, rows: rows[first..<last], targets: targets[first..<last], layout: layout)
        }
        return out
    }

    /// One pass of `tokenScores` over at most `maxRows` rows.
    private func tokenScores(_ hidden: UnsafeBufferPointer<Float>, rows: ArraySlice<Int>,
                             targets: ArraySlice<Int>, layout: AlignedRows?) -> [TokenScore] {
        let d = model.config.hiddenSize, vocab = model.config.vocabularySize
        let count = rows.count, width = Self.tileWidth
        let tileCount = (vocab + width - 1) / width
        // Where each row goes in the product: in turn, or laid out as one-row sequences whose
        // phases are their aligned rows' remainders (the fewest product rows there can be).
        var places = Array(0..<count), productRows = count
        if let layout, !layout.keepsPackedRows {
            let single = AlignedRows(lengths: Array(repeating: 1, count: count),
                                     phases: rows.map { layout.alignedIndex(ofPackedRow: $0) }, period: layout.period)
            (places, productRows) = (single.alignedStarts, single.count)
        }
        let gathered = gather(hidden, rows: rows, at: places, count: productRows)
        let targets = Array(targets)
        // Per (row, tile): the tile's maximum logit and Σ exp(logit - maximum). Per row: the
        // target's logit, and the largest logit before it in its tile (-inf when it is the first).
        var maxima = [Float](repeating: 0, count: count * tileCount)
        var sums = [Double](repeating: 0, count: count * tileCount)
        var targetLogits = [Float](repeating: 0, count: count)
        var beforeTarget = [Float](repeating: -.infinity, count: count)
        let workers = min(tiles.count, tileCount)
        let scratch = tiles.prefix(workers).map { $0.reserve(productRows * width) }
        let head = model.lmHead ?? model.tokenEmbedding
        head.withUnsafeBufferPointer { head in
            maxima.withUnsafeMutableBufferPointer { maxima in
                sums.withUnsafeMutableBufferPointer { sums in
                    targetLogits.withUnsafeMutableBufferPointer { targetLogits in
                        beforeTarget.withUnsafeMutableBufferPointer { beforeTarget in
                            Parallel.forEach(workers) { w in
                                let logits = scratch[w]
                                var t = w
                                while t < tileCount {
                                    let v0 = t * width, n = min(width, vocab - v0)
                                    if let packed = self.model.packedHead {
                                        // Packed by the same oneDNN on this CPU: a failure is oneDNN's own (out of memory).
                                        do { try packed.tiles[t].product(gathered, m: productRows, into: logits, ldc: n, accumulate: false) } catch {
                                            preconditionFailure("packed LM head product: \(error)")
                                        }
                                    } else {
                                        Matmul.serial(gathered, lda: d, m: productRows, k: d, head.baseAddress! + v0 * d, ldb: d, n: n,
                                                      transposeB: true, logits, ldc: n)
                                    }
                                    for i in 0..<count {
                                        let row = logits + places[i] * n
                                        if targets[i] >= v0 && targets[i] < v0 + n {
                                            targetLogits[i] = row[targets[i] - v0]
                                            if targets[i] > v0 { beforeTarget[i] = RowOps.maximum(row, count: targets[i] - v0) }
                                        }
                                        let maximum = RowOps.maximum(row, count: n)
                                        maxima[i * tileCount + t] = maximum
                                        sums[i * tileCount + t] = RowOps.expShifted(row, count: n, shift: maximum)
                                    }
                                    t += workers
                                }
                            }
                        }
                    }
                }
            }
        }
        return (0..<count).map { i in
            let tileMaxima = maxima[(i * tileCount)..<((i + 1) * tileCount)]
            let maximum = Double(tileMaxima.max()!)
            var total = 0.0
            for t in 0..<tileCount { total += sums[i * tileCount + t] * Foundation.exp(Double(maxima[i * tileCount + t]) - maximum) }
            // Greedy: the target is the first index of the largest logit, as argmax picks it, so
            // every logit before it (earlier tiles, and its own tile) is smaller.
            let target = targetLogits[i], targetTile = targets[i] / width
            let isGreedy = Double(target) == maximum && beforeTarget[i] < target
                && tileMaxima.prefix(targetTile).allSatisfy { $0 < target }
            return TokenScore(logProbability: Double(target) - (maximum + Foundation.log(total)), isGreedy: isGreedy)
        }
    }

    /// The hidden states of `rows`, gathered contiguously `[rows.count, hidden]`.
    private func gather(_ hidden: UnsafeBufferPointer<Float>, rows: some Collection<Int>) -> UnsafeMutablePointer<Float> {
        gather(hidden, rows: rows, at: Array(0..<rows.count), count: rows.count)
    }

    /// `count` rows `[count, hidden]` holding the hidden state of `rows[i]` at row `places[i]`, zero elsewhere.
    private func gather(_ hidden: UnsafeBufferPointer<Float>, rows: some Collection<Int>, at places: [Int],
                        count: Int) -> UnsafeMutablePointer<Float> {
        let d = model.config.hiddenSize
        let gathered = self.gathered.reserve(count * d)
        if count > rows.count { gathered.initialize(repeating: 0, count: count * d) }
        for (row, place) in zip(rows, places) {
            precondition(row >= 0 && row * d + d <= hidden.count, "row outside the hidden states")
            (gathered + place * d).update(from: hidden.baseAddress! + row * d, count: d)
        }
        return gathered
    }

    /// Full logits of each requested row.
    public func logits(_ hidden: UnsafeBufferPointer<Float>, rows: [Int]) -> [[Float]] {
        var out: [[Float]] = []
        let vocab = model.config.vocabularySize
        forEachChunk(hidden, rows: rows) { _, count, logits in
            for i in 0..<count { out.append(Array(UnsafeBufferPointer(start: logits + i * vocab, count: vocab))) }
        }
        return out
    }

    /// Computes logits for `rows` a chunk at a time: `body(first index in rows, count, logits [count, vocab])`.
    private func forEachChunk(_ hidden: UnsafeBufferPointer<Float>, rows: [Int],
                              _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let d = model.config.hiddenSize, vocab = model.config.vocabularySize
        let logits = self.logits.reserve(chunkRows * vocab)
        let head = model.lmHead ?? model.tokenEmbedding
        head.withUnsafeBufferPointer { head in
            var start = 0
            while start < rows.count {
                let count = min(chunkRows, rows.count - start)
                let gathered = gather(hidden, rows: rows[start..<(start + count)])
                Matmul.timesTransposed(gathered, lda: d, m: count, k: d, head.baseAddress!, ldw: d, n: vocab,
                                       logits, ldc: vocab)
                body(start, count, logits)
                start += count
            }
        }
    }
}
