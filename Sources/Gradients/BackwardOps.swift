import Foundation

/// The backward kernels of the row-wise operations of a transformer, one row at a time. Generic
/// over the element type so the tests can check each against finite differences in Float64; the
/// training pass runs them in Float32 (sums in Double).
enum BackwardOps {
    /// RMSNorm `y = x · g / sqrt(mean(x²) + eps)`: adds `∂L/∂x` to `dx` given `dy`.
    ///
    ///     dx_i = s g_i dy_i - s³ x_i (Σ_j g_j dy_j x_j) / n,   s = 1 / sqrt(mean(x²) + eps)
    static func rmsNorm<T: BinaryFloatingPoint>(x: UnsafePointer<T>, weight g: UnsafePointer<Float>, eps: Float,
                                                dy: UnsafePointer<T>, addingInto dx: UnsafeMutablePointer<T>, width n: Int) {
        var squares = 0.0, dot = 0.0
        for i in 0..<n {
            let xi = Double(x[i])
            squares += xi * xi
            dot += Double(g[i]) * Double(dy[i]) * xi
        }
        let s = 1 / (squares / Double(n) + Double(eps)).squareRoot()
        let correction = s * s * s * dot / Double(n)
        for i in 0..<n {
            dx[i] += T(s * Double(g[i]) * Double(dy[i]) - correction * Double(x[i]))
        }
    }

    /// SwiGLU `h = silu(a) · u` with `[a | u]` side by side in `gateUp` (`width` each): writes
    /// `[∂L/∂a | ∂L/∂u]` into `dGateUp` given `dh`.
    ///
    ///     ∂h/∂a = u σ(a) (1 + a (1 - σ(a))),   ∂h/∂u = a σ(a)
    static func swiGLU<T: BinaryFloatingPoint>(gateUp: UnsafePointer<T>, dh: UnsafePointer<T>,
                                               into dGateUp: UnsafeMutablePointer<T>, width: Int) {
        for i in 0..<width {
            let a = Double(gateUp[i]), u = Double(gateUp[width + i]), d = Double(dh[i])
            let sigma = 1 / (1 + Foundation.exp(-a))
            dGateUp[i] = T(d * u * sigma * (1 + a * (1 - sigma)))
            dGateUp[width + i] = T(d * a * sigma)
        }
    }

    /// Softmax over the first `visible` entries (the rest are masked, probability 0): replaces
    /// `dp` by `∂L/∂scores` given the probabilities `p`: `ds_i = p_i (dp_i - Σ_j p_j dp_j)`.
    static func softmax<T: BinaryFloatingPoint>(p: UnsafePointer<T>, gradient dp: UnsafeMutablePointer<T>,
                                                visible: Int, count: Int) {
        var dot = 0.0
        for j in 0..<visible { dot += Double(p[j]) * Double(dp[j]) }
        for j in 0..<visible { dp[j] = T(Double(p[j]) * (Double(dp[j]) - dot)) }
        for j in visible..<count { dp[j] = 0 }
    }

    /// Cross-entropy `-log softmax(logits)[target]` of one row: returns the loss and replaces
    /// `logits` by `scale · (softmax(logits) - onehot(target))`, its gradient times `scale`.
    static func crossEntropy(logits: UnsafeMutablePointer<Float>, count: Int, target: Int, scale: Float) -> Double {
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, logits[i]) }
        let targetLogit = Double(logits[target])
        var total = 0.0
        for i in 0..<count {
            let e = Foundation.exp(Double(logits[i] - maximum))
            logits[i] = Float(e)
            total += e
        }
        let loss = Double(maximum) + Foundation.log(total) - targetLogit
        let inverse = 1 / total
        for i in 0..<count { logits[i] = scale * Float(Double(logits[i]) * inverse) }
        logits[target] -= scale
        return loss
    }
}
