import Foundation
import Kernels

/// Logits and log-probabilities from final hidden states, only for the rows a caller asks for.
/// Rows are processed in chunks, so a full-vocabulary logit matrix is never held for a whole batch.
public final class LanguageModelHead {
    public let model: LlamaModel
    private let gathered = Buffer()
    private let logits = Buffer()
    private let scratch: [Buffer]
    /// Rows per logit product.
    public let chunkRows = 64

    public init(model: LlamaModel) {
        self.model = model
        scratch = (0..<Parallel.cores).map { _ in Buffer(model.config.vocabularySize) }
    }

    /// For each (row, target): log p(target | row), i.e. `logit[target] - logsumexp(logits)`, in Double.
    public func logProbabilities(_ hidden: UnsafeBufferPointer<Float>, rows: [Int], targets: [Int]) -> [Double] {
        precondition(rows.count == targets.count)
        var out = [Double](repeating: 0, count: rows.count)
        let vocab = model.config.vocabularySize
        forEachChunk(hidden, rows: rows) { chunkStart, count, logits in
            out.withUnsafeMutableBufferPointer { out in
                let out = out.baseAddress!
                Parallel.forEach(min(Parallel.cores, count)) { w in
                    var i = w
                    while i < count {
                        let row = logits + i * vocab
                        let lse = RowOps.logSumExp(row, count: vocab, scratch: self.scratch[w].pointer)
                        out[chunkStart + i] = Double(row[targets[chunkStart + i]]) - lse
                        i += Parallel.cores
                    }
                }
            }
        }
        return out
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
        let gathered = self.gathered.reserve(chunkRows * d)
        let logits = self.logits.reserve(chunkRows * vocab)
        let head = model.lmHead ?? model.tokenEmbedding
        head.withUnsafeBufferPointer { head in
            var start = 0
            while start < rows.count {
                let count = min(chunkRows, rows.count - start)
                for i in 0..<count {
                    precondition(rows[start + i] * d + d <= hidden.count, "row outside the hidden states")
                    (gathered + i * d).update(from: hidden.baseAddress! + rows[start + i] * d, count: d)
                }
                Matmul.timesTransposed(gathered, lda: d, m: count, k: d, head.baseAddress!, ldw: d, n: vocab,
                                       logits, ldc: vocab)
                body(start, count, logits)
                start += count
            }
        }
    }
}
