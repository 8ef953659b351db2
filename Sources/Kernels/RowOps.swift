import CRowKernels

/// Row-wise kernels of a transformer: norms, activations, softmax. The batched ones split their
/// rows over the cores; the per-row ones run on the caller's thread. The vector loops are C
/// (`CRowKernels`), compiled for AVX-512, AVX2 and baseline x86-64 with the same rounding in each.
///
/// Their exp is 2^n · e^r with n = round(x·log2 e) and a degree-6 polynomial for e^r (Cephes'
/// expf coefficients): relative error about 2e-7, within an ulp or two of libm; 0 below -87.34
/// and +infinity above 88.72, as Float's exp.
public enum RowOps {
    /// `out[r] = x[r] / sqrt(mean(x[r]²) + eps) * weight` for every row (the mean in Double).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], eps: Float,
                               into out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        weight.withUnsafeBufferPointer { g in
            let g = g.baseAddress!
            Parallel.forRanges(rows, minimumPerRange: 16) { range in
                for r in range { bip_rms_norm(x + r * width, g, eps, out + r * width, width) }
            }
        }
    }

    /// Σ x², each square and the sum in Double.
    @inline(__always)
    public static func sumOfSquares(_ row: UnsafePointer<Float>, _ count: Int) -> Double {
        bip_sum_of_squares(row, count)
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
                let gate = gateUp + r * 2 * width
                bip_swiglu(gate, gate + width, out + r * width, width)
            }
        }
    }

    /// Softmax over the first `visible` entries of a row of `count`; the rest become 0 (causal mask).
    @inline(__always)
    public static func softmaxPrefix(_ row: UnsafeMutablePointer<Float>, visible: Int, count: Int) {
        bip_softmax_prefix(row, visible, count)
    }

    /// `values[i] = exp(values[i] - shift)` for all i; returns their sum, accumulated in Double.
    @inline(__always)
    public static func expShifted(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Double {
        bip_exp_shifted(values, count, shift)
    }

    /// The largest of `count` values (-infinity when there are none; NaNs are passed over).
    @inline(__always)
    public static func maximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
        bip_maximum(row, count)
    }
}
