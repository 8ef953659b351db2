import Runtime

/// Runs the calibration sequences through a model one decoder layer at a time, holding the
/// residual stream of every calibration token between layers, so that each layer can be pruned
/// before the next layer's statistics are taken (Wanda-sp's sequential recomputation) and a
/// block's output can be measured directly.
///
/// Each step runs the same `ForwardPass` on a one-layer model whose embedding table is the
/// current residual stream (token i of the table = row i), so positions, attention and the KV
/// cache behave exactly as in the full model.
public final class LayerwiseRunner {
    public let config: ModelConfig
    public let lengths: [Int]
    /// The residual stream `[tokens, hidden]` entering the next layer, sequences packed in order.
    public private(set) var residual: [Float]
    let tokensPerBatch: Int

    public init(model: LlamaModel, sequences: [[Int]], tokensPerBatch: Int = 2048) {
        config = model.config
        lengths = sequences.map(\.count)
        self.tokensPerBatch = tokensPerBatch
        let d = model.config.hiddenSize
        var residual = [Float](repeating: 0, count: sequences.reduce(0) { $0 + $1.count } * d)
        var row = 0
        for s in sequences {
            for t in s {
                residual.replaceSubrange((row * d)..<((row + 1) * d), with: model.tokenEmbedding[(t * d)..<((t + 1) * d)])
                row += 1
            }
        }
        self.residual = residual
    }

    public var tokenCount: Int { lengths.reduce(0, +) }

    /// The statistics of `layer` (model index `index`) on the current residual stream.
    public func statistics(of layer: DecoderLayer, index: Int) -> LayerStatistics {
        let collector = StatisticsCollector(rmsEpsilon: config.rmsEpsilon)
        collector.layerOffset = index
        run(layer, observer: collector) { _ in }
        return collector.layers[index]!
    }

    /// The output of `layer` on the current residual stream, `[tokens, hidden]`.
    public func output(of layer: DecoderLayer) -> [Float] {
        let block = BlockOutput(layer: layer, tokens: tokenCount)
        run(layer, observer: block) { block.rowOffset = $0 }
        return block.output
    }

    /// Moves the residual stream through `layer`.
    public func advance(through layer: DecoderLayer) { residual = output(of: layer) }

    private func run(_ layer: DecoderLayer, observer: ActivationObserver, beforeBatch: (Int) -> Void) {
        var step = config
        step.vocabularySize = tokenCount
        let model = LlamaModel(config: step, tokenEmbedding: residual, layers: [layer],
                               outputNorm: [Float](repeating: 1, count: config.hiddenSize), lmHead: nil)
        let forward = ForwardPass(model: model)
        var firstRow = [Int](), row = 0
        for n in lengths { firstRow.append(row); row += n }
        for batch in CalibrationPass.batches(lengths, tokensPerBatch: tokensPerBatch) {
            beforeBatch(firstRow[batch[0]])
            let cache = KVCache(model: model, slots: batch.count, capacity: batch.map { lengths[$0] }.max()!)
            _ = forward(batch.enumerated().map { SequenceInput(slot: $0.offset, tokens: Array(firstRow[$0.element]..<(firstRow[$0.element] + lengths[$0.element]))) },
                        cache: cache, observer: observer)
        }
    }
}

/// Keeps a block's output, the residual stream leaving the layer, as the forward pass shows it.
private final class BlockOutput: ActivationObserver {
    var output: [Float]
    var rowOffset = 0

    init(layer: DecoderLayer, tokens: Int) {
        output = [Float](repeating: 0, count: tokens * layer.hiddenSize)
    }

    func observe(_ site: ActivationSite, layer _: Int, rows: UnsafePointer<Float>, count: Int, width: Int) {
        guard site == .blockOutput else { return }
        output.withUnsafeMutableBufferPointer { out in (out.baseAddress! + rowOffset * width).update(from: rows, count: count * width) }
    }
}
