import Foundation
import Runtime

/// Checks the bip variants' head scores against what removing each head actually does.
///
/// For every surveyed layer, on the calibration tokens (dense model, the layers before it
/// unpruned): the layer's statistics and the four bip variants' head scores, then for each query
/// head h the block is recomputed with o_proj columns `h*dh ..< (h+1)*dh` zeroed (residual,
/// post-attention norm and MLP; attention itself is unchanged since A is computed before o_proj)
/// and the measured change is `Σ_t Σ_n |y'[t,n] - y[t,n]| / N`, the mean over tokens of the l1
/// change of the block output (docs/pruning-methods.md, "Checking the bound: bip bounds"; the same
/// scale as the scores). Everything runs through `LayerwiseRunner`, i.e. the model's own `ForwardPass`.
public enum HeadBoundSurvey {
    /// The variants the survey compares, in report order.
    public static let variants: [BIPImportance.Variant] = [.standard, .local, .gate, .norm]

    /// One layer: per query head the measured block-output change and each variant's score.
    public struct Layer: Sendable {
        public let index: Int
        public let measured: [Double]
        /// Head scores by variant (`scores[variant][h]`).
        public let scores: [BIPImportance.Variant: [Double]]
    }

    /// How well a set of scores bounds and ranks a set of measured changes.
    public struct Agreement: Sendable, Equatable {
        /// Spearman rank correlation of score and measured change (average ranks for ties).
        public let spearman: Double
        /// Heads whose measured change exceeds the score (the score is then not a bound).
        public let violations: Int
        public let count: Int
        /// The median of score / measured.
        public let medianRatio: Double
        /// Pairs of heads the score orders like the measured change (ties count as discordant).
        public let concordantPairs: Int
        public let pairs: Int

        public init(scores: [Double], measured: [Double]) {
            precondition(scores.count == measured.count && !scores.isEmpty)
            spearman = HeadBoundSurvey.spearman(scores, measured)
            violations = zip(scores, measured).filter { $0.1 > $0.0 }.count
            count = scores.count
            medianRatio = HeadBoundSurvey.median(zip(scores, measured).map { $0.0 / $0.1 })
            var concordant = 0, pairs = 0
            for i in scores.indices {
                for j in scores.indices where j > i {
                    pairs += 1
                    if (scores[i] - scores[j]) * (measured[i] - measured[j]) > 0 { concordant += 1 }
                }
            }
            concordantPairs = concordant
            self.pairs = pairs
        }
    }

    /// Measures every layer of `layers` on `sequences`; `progress` gets one line per layer.
    public static func run(model: LlamaModel, sequences: [[Int]], layers: Range<Int>,
                           progress: (String) -> Void = { _ in }) throws -> [Layer] {
        guard !sequences.isEmpty, sequences.allSatisfy({ !$0.isEmpty }) else {
            throw PruningError("the calibration set is empty: it needs at least one sequence of at least one token")
        }
        let vocabulary = model.config.vocabularySize
        if let bad = sequences.joined().first(where: { !(0..<vocabulary).contains($0) }) {
            throw PruningError("calibration token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        guard !layers.isEmpty, layers.upperBound <= model.layers.count else {
            throw PruningError("layer range \(layers) is empty or outside the model's \(model.layers.count) layers")
        }
        let runner = LayerwiseRunner(model: model, sequences: sequences)
        let started = Date()
        var out: [Layer] = []
        for l in 0..<layers.upperBound {
            let layer = model.layers[l]
            if layers.contains(l) {
                out.append(measure(layer, index: l, runner: runner))
                let elapsed = Date().timeIntervalSince(started), done = out.count
                progress(String(format: "bounds: layer %d done (%d/%d layers, %.0f s, ETA %.0f s)", l, done, layers.count,
                                elapsed, elapsed / Double(done) * Double(layers.count - done)))
            } else {
                progress("bounds: running layer \(l) to reach layer \(layers.lowerBound)")
            }
            if l + 1 < layers.upperBound { runner.advance(through: layer) }
        }
        return out
    }

    /// Scores and measured changes of one layer on the runner's current residual stream.
    static func measure(_ layer: DecoderLayer, index: Int, runner: LayerwiseRunner) -> Layer {
        let stats = runner.statistics(of: layer, index: index)
        var scores: [BIPImportance.Variant: [Double]] = [:]
        for variant in variants {
            scores[variant] = BIPImportance(variant: variant).scores(layer: layer, index: index, statistics: stats).heads
        }
        let dense = runner.output(of: layer)
        let measured = (0..<layer.queryHeads).map { h in
            l1Distance(runner.output(of: zeroingHead(h, of: layer)), dense) / Double(runner.tokenCount)
        }
        return Layer(index: index, measured: measured, scores: scores)
    }

    /// `layer` with o_proj columns `h*dh ..< (h+1)*dh` set to zero: head h contributes nothing.
    public static func zeroingHead(_ h: Int, of layer: DecoderLayer) -> DecoderLayer {
        var masked = layer
        let width = layer.output.inFeatures, hd = layer.headDim
        for row in 0..<layer.output.outFeatures {
            for j in (h * hd)..<((h + 1) * hd) { masked.output.weight[row * width + j] = 0 }
        }
        return masked
    }

    static func l1Distance(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var total = 0.0
        for i in a.indices { total += Swift.abs(Double(a[i]) - Double(b[i])) }
        return total
    }

    /// Per variant: the agreement of all heads of all `layers` pooled (scores of different layers compared directly).
    public static func pooled(_ layers: [Layer], _ variant: BIPImportance.Variant) -> Agreement {
        Agreement(scores: layers.flatMap { $0.scores[variant]! }, measured: layers.flatMap(\.measured))
    }

    /// Spearman's rho: Pearson correlation of the average ranks.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        let ra = ranks(a), rb = ranks(b), n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ra.indices {
            sab += (ra[i] - ma) * (rb[i] - mb)
            saa += (ra[i] - ma) * (ra[i] - ma)
            sbb += (rb[i] - mb) * (rb[i] - mb)
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }

    /// 1-based ranks, tied values sharing the mean of their ranks.
    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var out = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { out[order[k]] = rank }
            i = j + 1
        }
        return out
    }

    public static func median(_ v: [Double]) -> Double {
        let s = v.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
