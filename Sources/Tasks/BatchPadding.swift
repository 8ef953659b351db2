import Runtime

/// Pads the model calls of the evaluators so that an item's result (a window's NLL sum, a
/// document's loglikelihoods) is the same bits whatever else runs in its batch, hence in whatever
/// shard it is evaluated.
///
/// OpenBLAS runs a product of few rows through a small-matrix kernel whose results differ in the
/// last bits from those of its regular kernel; from a few tens of rows on, a row's result depends
/// only on where the row sits among them modulo `RowAlignment.period` (1 with the SkylakeX and
/// Cooperlake kernels of Zen 4, 12 with the Haswell and Zen kernels of Zen 1 to 3), which the
/// forward pass and the LM head keep the same for a token wherever its sequence is batched
/// (`AlignedRows`). So every forward call of an evaluator runs at least `minimumRows` token
/// rows, a filler sequence in a spare KV-cache slot making up the difference, and the LM head
/// gets at least as many rows (all rows of a call share its products).
enum BatchPadding {
    /// The fewest token rows a forward call runs.
    static let minimumRows = 64

    /// `inputs`, with a filler sequence in `fillerSlot` (a slot none of them uses) when they hold
    /// fewer than `minimumRows` tokens. Its rows come after theirs and are never read.
    static func padded(_ inputs: [SequenceInput], fillerSlot: Int) -> [SequenceInput] {
        let rows = inputs.reduce(0) { $0 + $1.tokens.count }
        guard rows < minimumRows else { return inputs }
        return inputs + [SequenceInput(slot: fillerSlot, tokens: Array(repeating: 0, count: minimumRows - rows))]
    }

    /// `head`'s scores of `targets` at `rows` of `hidden`, as `forward` made it (its rows' layout),
    /// computed with the rows padded to at least `minimumRows` (the first rows of the call, which
    /// has that many, each at its own remainder in the head's product; their results are dropped).
    static func tokenScores(_ head: LanguageModelHead, _ hidden: UnsafeBufferPointer<Float>, of forward: ForwardPass,
                            rows: [Int], targets: [Int]) -> [TokenScore] {
        guard !rows.isEmpty else { return [] }
        let filler = max(0, minimumRows - rows.count)
        let all = head.tokenScores(hidden, rows: rows + Array(0..<filler),
                                   targets: targets + Array(repeating: 0, count: filler), layout: forward.layout)
        return Array(all.prefix(rows.count))
    }
}
