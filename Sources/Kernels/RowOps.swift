import Foundation

/// Row-wise kernels of a transformer: norms, activations, softmax. The batched ones split their
/// rows over the cores; the per-row ones run on the caller's thread.
public enum RowOps {
    /// `out[r] = x[r] / sqrt(mean(x[r]²) + eps) * weight` for every row (the sum of squares in Double).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], eps: Float,
                               into out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        weight.withUnsafeBufferPointer { g in
            let g = g.baseAddress!
            Parallel.forRanges(rows, minimumPerRange: 16) { range in
                for r in range {
                    let row = x + r * width, dst = out + r * width
                    let scale = Float(1 / (sumOfSquares(row, width) / Double(width) + Double(eps)).squareRoot())
                    for i in 0..<width { dst[i] = row[i] * scale * g[i] }
                }
            }
        }
    }

    /// Σ x², accumulated in Double.
    @inline(__always)
    public static func sumOfSquares(_ row: UnsafePointer<Float>, _ count: Int) -> Double {
        var total = 0.0
        for i in 0..<count { total += Double(row[i]) * Double(row[i]) }
        return total
    }

    /// Adds `bias` to every row of `out` (`bias.count` wide).
    public static func addBias(_ bias: [Float], to out: UnsafeMutablePointer<Float>, rows: Int) {
        bias.withUnsafeBufferPointer { b in
            let width = b.count
            for r in 0..<rows {
                let row = out + r * width
                for i in 0..<width { row[i] += b[i] }
            }
        }
    }

    /// SwiGLU: `out[r, m] = silu(gateUp[r, m]) * gateUp[r, width + m]`, with silu(g) = g / (1 + e^-g).
    public static func swiGLU(_ gateUp: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        Parallel.forRanges(rows, minimumPerRange: 8) { range in
            for r in range {
                let gate = gateUp + r * 2 * width, up = gate + width, dst = out + r * width
                var i = 0
                while i + 8 <= width {
                    let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                    let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                    let silu = g / (1 + FastExp.exp(-g))
                    UnsafeMutableRawPointer(dst + i).storeBytes(of: silu * u, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < width {
                    dst[i] = gate[i] / (1 + FastExp.exp(-gate[i])) * up[i]
                    i += 1
                }
            }
        }
    }

    /// Softmax over the first `visible` entries of a row of `count`; the rest become 0 (causal mask).
    public static func softmaxPrefix(_ row: UnsafeMutablePointer<Float>, visible: Int, count: Int) {
        let maximum = maximum(row, count: visible)
        let total = FastExp.expShifted(row, count: visible, shift: maximum)
        let inverse = Float(1 / total)
        for i in 0..<visible { row[i] *= inverse }
        for i in visible..<count { row[i] = 0 }
    }

    /// The largest of `count` values (-infinity when there are none; NaNs are passed over).
    @inline(__always)
    public static func maximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        var result = lanes.max()
        while i < count {
            if row[i] > result { result = row[i] }
            i += 1
        }
        return result
    }
}
