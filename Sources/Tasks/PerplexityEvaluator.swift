import Foundation
import Runtime

/// Perplexity of a model on a token stream, by LLM-Pruner's protocol: non-overlapping windows of
/// `seqLen` tokens, each run alone from position 0, every next token of every window scored, the
/// mean NLL accumulated in Double.
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
        /// Each window's NLL sum, in window order: the rise of the running total over that window,
        /// so that adding them up in order in Float64 gives back the total behind `meanNLL`
        /// (each rise is exact in Float64 whenever a window's sum is at most the total before it,
        /// as with any real text after the first windows; tests check the round trip).
        public let windowNLL: [Double]
    }

    /// Evaluates `windows` (all of length `seqLen`); `progress(done, total)` after each batch.
    public func evaluate(_ windows: [ArraySlice<Int>], seqLen: Int,
                         progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        precondition(windows.allSatisfy { $0.count == seqLen })
        let forward = ForwardPass(model: model)
        let head = LanguageModelHead(model: model)
        let cache = KVCache(model: model, slots: batch, capacity: seqLen)
        var totalNLL = 0.0
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
            let hidden = forward(inputs, cache: cache)
            // The running total at each window's end, its rise stored as the window's sum.
            var windowStart = totalNLL
            for (row, logProbability) in head.logProbabilities(hidden, rows: rows, targets: targets).enumerated() {
                totalNLL -= logProbability
                if (row + 1) % (seqLen - 1) == 0 {
                    windowNLL.append(totalNLL - windowStart)
                    windowStart = totalNLL
                }
            }
            scored += rows.count
            start += group.count
            progress(start, windows.count)
        }
        let mean = scored == 0 ? .nan : totalNLL / Double(scored)
        return Result(perplexity: exp(mean), meanNLL: mean, tokens: scored, windows: windows.count, seqLen: seqLen,
                      windowNLL: windowNLL)
    }
}
