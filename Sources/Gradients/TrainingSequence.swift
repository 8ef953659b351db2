/// One training sequence: its tokens and, per position, the token the model should predict
/// there (`-1`: no loss at that position). Positions start at 0; sequences never see each other.
public struct TrainingSequence: Sendable, Equatable {
    public var tokens: [Int]
    public var targets: [Int]

    public init(tokens: [Int], targets: [Int]) {
        precondition(tokens.count == targets.count, "\(tokens.count) tokens but \(targets.count) targets")
        self.tokens = tokens
        self.targets = targets
    }

    /// Plain language modelling: every position predicts the next token (HF's `labels = input_ids`).
    public static func languageModeling(_ tokens: [Int]) -> TrainingSequence {
        TrainingSequence(tokens: tokens, targets: Array(tokens.dropFirst()) + [-1])
    }

    /// Instruction tuning: only the response's tokens (from `responseStart` on) are predicted.
    public static func response(_ tokens: [Int], responseStart: Int) -> TrainingSequence {
        var targets = Array(tokens.dropFirst()) + [-1]
        for t in 0..<min(max(0, responseStart - 1), targets.count) { targets[t] = -1 }
        return TrainingSequence(tokens: tokens, targets: targets)
    }

    /// Positions with a loss.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}
