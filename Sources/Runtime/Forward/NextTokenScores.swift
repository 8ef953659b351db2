/// What one forward pass over a token sequence says about each next token: the fields of the
/// reference logits fixtures (`bip logits`).
public struct NextTokenScores: Sendable {
    /// Logits at the last position.
    public let lastLogits: [Float]
    /// log p(tokens[i+1] | tokens[...i]) for i in 0..<count-1.
    public let nextTokenLogProbs: [Double]
    /// The argmax of the logits at every position.
    public let argmax: [Int]

    public init(model: LlamaModel, tokens: [Int]) {
        let forward = ForwardPass(model: model)
        let head = LanguageModelHead(model: model)
        let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: model, slots: 1, capacity: tokens.count))
        let rows = Array(0..<tokens.count)
        let logits = head.logits(hidden, rows: rows)
        lastLogits = logits[tokens.count - 1]
        argmax = logits.map { row in row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }
        nextTokenLogProbs = head.logProbabilities(hidden, rows: Array(rows.dropLast()), targets: Array(tokens.dropFirst()))
    }
}
