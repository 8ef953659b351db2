import Runtime

/// The dense forward pass over the calibration sequences that collects `LayerStatistics` for
/// every layer. Sequences run in ragged batches of about `tokensPerBatch` tokens, each from
/// position 0 in its own KV-cache slot.
public enum CalibrationPass {
    public static func statistics(model: LlamaModel, sequences: [[Int]], tokensPerBatch: Int = 2048,
                                  progress: (String) -> Void = { _ in }) throws -> [LayerStatistics] {
        guard !sequences.isEmpty, sequences.allSatisfy({ !$0.isEmpty }) else {
            throw PruningError("the calibration set is empty: it needs at least one sequence of at least one token")
        }
        let vocabulary = model.config.vocabularySize
        if let bad = sequences.joined().first(where: { !(0..<vocabulary).contains($0) }) {
            throw PruningError("calibration token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        let collector = StatisticsCollector(rmsEpsilon: model.config.rmsEpsilon)
        let forward = ForwardPass(model: model)
        let meter = ProgressMeter("calibration pass", unit: "sequences")
        var done = 0
        for batch in batches(sequences.map(\.count), tokensPerBatch: tokensPerBatch) {
            let cache = KVCache(model: model, slots: batch.count, capacity: batch.map { sequences[$0].count }.max()!)
            _ = forward(batch.enumerated().map { SequenceInput(slot: $0.offset, tokens: sequences[$0.element]) },
                        cache: cache, observer: collector)
            done += batch.count
            meter.update(done, sequences.count, report: progress)
        }
        return model.layers.indices.map { collector.layers[$0]! }
    }

    /// Consecutive runs of sequence indices holding about `tokensPerBatch` tokens each.
    static func batches(_ lengths: [Int], tokensPerBatch: Int) -> [[Int]] {
        var out: [[Int]] = [], current: [Int] = [], tokens = 0
        for (i, n) in lengths.enumerated() {
            if !current.isEmpty && tokens + n > tokensPerBatch {
                out.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += n
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
