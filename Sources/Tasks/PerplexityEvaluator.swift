import Foundation
import Runtime

/// Perplexity of a model on a token stream, by LLM-Pruner's protocol: non-overlapping windows of
/// `seqLen` tokens, each run alone from position 0, every next token of every window scored; each
/// window's NLL summed in Double on its own, the windows' sums added in window order.
public struct PerplexityEvaluator {
    public let model: LlamaModel
    /// Windows per forward batch (the result does not depend on it).
    public var batch: Int

    public init(model: LlamaModel, batch: Int = 8) {
        self.model = model
        self.batch = max(1, batch)
    }

    /// What a perplexity run measured.
    public struct Result: Sendable, Equatable {
        public let perplexity: Double
        public let meanNLL: Double
        /// Predicted (scored) tokens: windows × (seqLen − 1).
        public let tokens: Int
        public let windows: Int
        public let seqLen: Int
        /// Each window's NLL sum, in window order: its tokens' NLL added in Float64 from zero, so
        /// that a window's sum does not depend on the windows before it or batched with it, and
        /// `meanNLL` is `meanNLL(windowSums: windowNLL, tokens:)`.
        public let windowNLL: [Double]
    }

    /// The mean NLL per token of windows from their NLL sums: the sums added in the order given
    /// (window order) in Float64, divided by the scored `tokens`; NaN for no tokens. bip's
    /// perplexity is `exp` of this, for a corpus evaluated whole or in shards.
    @inlinable
    public static func meanNLL(windowSums: some Sequence<Double>, tokens: Int) -> Double {
        tokens == 0 ? .nan : windowSums.reduce(0, +) / Double(tokens)
    }

    /// Evaluates `windows` (all of length `seqLen`); `progress(done, total)` after each batch.
    public func evaluate(_ windows: [ArraySlice<Int>], seqLen: Int,
                         progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        precondition(windows.allSatisfy { $0.count == seqLen })
        let forward = ForwardPass(model: model)
        let head = LanguageModelHead(model: model)
        let cache = KVCache(model: model, slots: batch + 1, capacity: max(seqLen, BatchPadding.minimumRows))
        var scored = 0
        var windowNLL: [Double] = []
        windowNLL.reserveCapacity(windows.count)
        var start = 0
        while start < windows.count {
            let group = windows[start..<min(start + batch, windows.count)]
            cache.reset()
            var rows: [Int] = [], targets: [Int] = []
            var inputs: [SequenceInput] = []
            for (slot, window) in group.enumerated() {
                let tokens = Array(window)
                inputs.append(SequenceInput(slot: slot, tokens: tokens))
                for t in 0..<(seqLen - 1) {
                    rows.append(slot * seqLen + t)
                    targets.append(tokens[t + 1])
                }
            }
            let hidden = forward(BatchPadding.padded(inputs, fillerSlot: batch), cache: cache)
            let scores = BatchPadding.tokenScores(head, hidden, of: forward, rows: rows, targets: targets)
            for slot in 0..<group.count {
                var nll = 0.0
                for score in scores[(slot * (seqLen - 1))..<((slot + 1) * (seqLen - 1))] { nll -= score.logProbability }
                windowNLL.append(nll)
            }
            scored += rows.count
            start += group.count
            progress(start, windows.count)
        }
        let mean = Self.meanNLL(windowSums: windowNLL, tokens: scored)
        return Result(perplexity: exp(mean), meanNLL: mean, tokens: scored, windows: windows.count, seqLen: seqLen,
                      windowNLL: windowNLL)
    }
}
