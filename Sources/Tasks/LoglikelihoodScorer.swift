import Runtime

/// Loglikelihoods of the choices of multiple-choice documents, computing what the choices share
/// only once.
///
/// For each document, the longest token prefix shared by all its choices and lying inside every
/// context is run once into a KV-cache slot and copied to one slot per choice; each choice then
/// runs only its remaining tokens (its last token is a target, never an input). Documents are
/// batched up to a token budget, with `BatchPadding`, so that a document's loglikelihoods do not
/// depend on the documents batched with it. Log-softmax is computed only at scored positions.
public final class LoglikelihoodScorer {
    public let model: LlamaModel
    /// Rows (tokens) per forward batch, roughly.
    public let tokenBudget: Int
    private let forward: ForwardPass
    private let head: LanguageModelHead
    private let cache: KVCache
    private let slots: Int

    /// Tokens actually run, and what a naive evaluator runs (each choice's whole sequence).
    public private(set) var tokensRun = 0
    public private(set) var naiveTokens = 0

    /// The token budget of a batch unless one is given (`bip eval`, sweeps).
    public static let defaultTokenBudget = 1024

    public init(model: LlamaModel, tokenBudget: Int = defaultTokenBudget, slots: Int = 64) {
        self.model = model
        self.tokenBudget = max(1, tokenBudget)
        self.slots = slots
        forward = ForwardPass(model: model)
        head = LanguageModelHead(model: model)
        cache = KVCache(model: model, slots: slots + 1, capacity: 256)
    }

    /// For each document (its requests, one per choice), the score of each continuation.
    /// `progress(done, total)` counts documents.
    public func score(_ documents: [[ZeroShotRequest]], progress: (Int, Int) -> Void = { _, _ in }) -> [[ContinuationScore]] {
        var results = [[ContinuationScore]](repeating: [], count: documents.count)
        var start = 0
        while start < documents.count {
            // Take documents while their choices fit in the slots and the token budget.
            var end = start, choices = 0, rows = 0
            while end < documents.count {
                let d = documents[end]
                let cost = d.reduce(0) { $0 + $1.contextTokens.count + $1.continuationTokens.count }
                if end > start && (choices + d.count > slots || rows + cost > tokenBudget) { break }
                choices += d.count
                rows += cost
                end += 1
            }
            precondition(choices <= slots, "a document has more choices than the scorer has slots")
            let scores = scoreBatch(Array(documents[start..<end]))
            for (i, s) in scores.enumerated() { results[start + i] = s }
            start = end
            progress(start, documents.count)
        }
        return results
    }

    private func scoreBatch(_ documents: [[ZeroShotRequest]]) -> [[ContinuationScore]] {
        cache.reset()
        // Slots: choice c of document d gets firstSlot[d] + c; the shared prefix runs in firstSlot[d].
        var firstSlot: [Int] = []
        var shared: [Int] = []
        var next = 0
        for requests in documents {
            precondition(requests.allSatisfy { !$0.contextTokens.isEmpty && !$0.continuationTokens.isEmpty })
            firstSlot.append(next)
            next += requests.count
            let sequences = requests.map(\.tokens)
            var length = requests.map(\.contextTokens.count).min()!
            for s in sequences.dropFirst() {
                var common = 0
                while common < length && s[common] == sequences[0][common] { common += 1 }
                length = common
            }
            shared.append(length)
            naiveTokens += sequences.reduce(0) { $0 + $1.count }
        }
        var scores = documents.map { [ContinuationScore](repeating: ContinuationScore(loglikelihood: 0, isGreedy: true), count: $0.count) }

        // Phase 1: the shared prefixes. The last prefix row predicts the first continuation token
        // of the choices whose context is exactly the prefix.
        var inputs: [SequenceInput] = []
        var rows: [Int] = [], targets: [Int] = [], owners: [(Int, Int)] = []
        var row = 0
        for (d, requests) in documents.enumerated() where shared[d] > 0 {
            inputs.append(SequenceInput(slot: firstSlot[d], tokens: Array(requests[0].contextTokens.prefix(shared[d]))))
            row += shared[d]
            for (c, request) in requests.enumerated() where request.contextTokens.count == shared[d] {
                rows.append(row - 1)
                targets.append(request.continuationTokens[0])
                owners.append((d, c))
            }
        }
        if !inputs.isEmpty {
            tokensRun += row
            let hidden = forward(BatchPadding.padded(inputs, fillerSlot: slots), cache: cache)
            for (token, (d, c)) in zip(BatchPadding.tokenScores(head, hidden, of: forward, rows: rows, targets: targets), owners) {
                scores[d][c].add(token)
            }
        }

        // Phase 2: every choice continues from a copy of its document's prefix.
        inputs = []
        rows = []; targets = []; owners = []
        row = 0
        for (d, requests) in documents.enumerated() {
            for (c, request) in requests.enumerated() {
                let slot = firstSlot[d] + c
                if c > 0 { cache.copy(from: firstSlot[d], to: slot, length: shared[d]) }
                let tokens = request.tokens
                let own = Array(tokens[shared[d]..<(tokens.count - 1)])
                guard !own.isEmpty else { continue }
                inputs.append(SequenceInput(slot: slot, tokens: own))
                // Position p of the sequence (p >= shared) predicts token p + 1; score the continuation's.
                let firstScored = request.contextTokens.count - 1
                for p in shared[d]..<(tokens.count - 1) where p >= firstScored {
                    rows.append(row + p - shared[d])
                    targets.append(tokens[p + 1])
                    owners.append((d, c))
                }
                row += own.count
            }
        }
        if !inputs.isEmpty {
            tokensRun += row
            let hidden = forward(BatchPadding.padded(inputs, fillerSlot: slots), cache: cache)
            for (token, (d, c)) in zip(BatchPadding.tokenScores(head, hidden, of: forward, rows: rows, targets: targets), owners) {
                scores[d][c].add(token)
            }
        }
        return scores
    }
}
