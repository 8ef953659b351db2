import Foundation
import Kernels
import Runtime

/// Which stacked projection of a decoder layer an adapter sits on.
public enum Projection: String, Sendable, Codable, CaseIterable {
    case qkv, output, gateUp, down
}

/// One low-rank adapter: `y[:, rows] += scale · (x · Aᵀ) · Bᵀ`, with `A` `[rank, inFeatures]` and
/// `B` `[rows.count, rank]` stored in `LoRA.values` at `offsetA` and `offsetB`.
public struct LoRAAdapter: Sendable, Codable, Equatable {
    public let layer: Int
    public let projection: Projection
    /// The output rows of the stacked projection it adds to (q, k or v inside qkv; gate or up).
    public let rows: Range<Int>
    public let inFeatures: Int
    public let offsetA: Int
    public let offsetB: Int
}

/// LoRA adapters on q, k, v, o, gate, up and down of every layer (LLM-Pruner's recovery
/// targets), all their parameters in one flat array so the optimizer and checkpoints see one
/// vector. `A` starts uniform in ±1/sqrt(inFeatures) and `B` at zero, so a new LoRA leaves the
/// model unchanged.
public struct LoRA: Sendable, Equatable {
    public let rank: Int
    public let alpha: Float
    public let adapters: [LoRAAdapter]
    public var values: [Float]

    public var scale: Float { alpha / Float(rank) }

    public init(model: LlamaModel, rank: Int, alpha: Float, seed: UInt64) {
        self.rank = rank
        self.alpha = alpha
        var adapters: [LoRAAdapter] = []
        var offset = 0
        func add(_ layer: Int, _ projection: Projection, _ rows: Range<Int>, _ inFeatures: Int) {
            adapters.append(LoRAAdapter(layer: layer, projection: projection, rows: rows, inFeatures: inFeatures,
                                        offsetA: offset, offsetB: offset + rank * inFeatures))
            offset += rank * (inFeatures + rows.count)
        }
        for (l, layer) in model.layers.enumerated() {
            let q = layer.qWidth, kv = layer.kvWidth, d = layer.hiddenSize, f = layer.ffnWidth
            add(l, .qkv, 0..<q, d)
            add(l, .qkv, q..<(q + kv), d)
            add(l, .qkv, (q + kv)..<(q + 2 * kv), d)
            add(l, .output, 0..<d, q)
            add(l, .gateUp, 0..<f, d)
            add(l, .gateUp, f..<(2 * f), d)
            add(l, .down, 0..<d, f)
        }
        self.adapters = adapters
        values = [Float](repeating: 0, count: offset)
        var generator = SeededGenerator(seed: seed)
        for adapter in adapters {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            for i in 0..<(rank * adapter.inFeatures) {
                values[adapter.offsetA + i] = (Float(generator.unit()) * 2 - 1) * bound
            }
        }
    }

    /// A LoRA with this layout and the given values (a checkpoint's).
    public init(rank: Int, alpha: Float, adapters: [LoRAAdapter], values: [Float]) {
        self.rank = rank
        self.alpha = alpha
        self.adapters = adapters
        self.values = values
    }

    /// The adapters of layer `layer` on `projection`.
    func adapters(layer: Int, _ projection: Projection) -> ArraySlice<LoRAAdapter> {
        let first = layer * 7
        let range: Range<Int>
        switch projection {
        case .qkv: range = first..<(first + 3)
        case .output: range = (first + 3)..<(first + 4)
        case .gateUp: range = (first + 4)..<(first + 6)
        case .down: range = (first + 6)..<(first + 7)
        }
        return adapters[range]
    }

    /// The model with every adapter's `scale · B · A` added into its weights: a plain model again.
    /// The merged weights are Float32.
    public func merged(into model: LlamaModel) -> LlamaModel {
        var merged = model
        for l in model.layers.indices {
            var layer = model.layers[l]
            layer.qkv = merge(layer.qkv, adapters(layer: l, .qkv))
            layer.output = merge(layer.output, adapters(layer: l, .output))
            layer.gateUp = merge(layer.gateUp, adapters(layer: l, .gateUp))
            layer.down = merge(layer.down, adapters(layer: l, .down))
            merged.layers[l] = layer
        }
        return merged
    }

    private func merge(_ linear: Linear, _ adapters: ArraySlice<LoRAAdapter>) -> Linear {
        var weight = linear.weight.floats
        let columns = linear.inFeatures
        values.withUnsafeBufferPointer { v in
            weight.withUnsafeMutableBufferPointer { w in
                for adapter in adapters {
                    // W[rows] += scale · B · A
                    Kernels.Matmul.general(v.baseAddress! + adapter.offsetB, lda: rank, transposeA: false,
                                           v.baseAddress! + adapter.offsetA, ldb: columns, transposeB: false,
                                           m: adapter.rows.count, n: columns, k: rank,
                                           w.baseAddress! + adapter.rows.lowerBound * columns, ldc: columns,
                                           alpha: scale, beta: 1)
                }
            }
        }
        return Linear(weight: WeightMatrix(weight, rows: linear.outFeatures, columns: columns), bias: linear.bias)
    }
}
