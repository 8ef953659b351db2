import COpenBLAS

/// Matrix products through OpenBLAS, spread over the cores by splitting the product (by the weight's
/// rows where it is wide enough, else by the activation rows).
///
/// OpenBLAS runs single-threaded inside each call (`singleThreadedBLAS()` is called once); the
/// product is divided among the cores here, so the same worker threads serve the
/// products and the element-wise work, and concurrent callers never fight over BLAS's own pool.
public enum Matmul {
    /// Makes every OpenBLAS call run on its caller's thread. Idempotent; cheap.
    public static let singleThreadedBLAS: Void = { openblas_set_num_threads(1) }()

    /// `c[m, n] = alpha * a[m, k] · w[n, k]ᵀ + beta * c` — activations times a weight matrix stored
    /// `[out, in]` row-major, the layout of every projection. Row strides `lda`, `ldw`, `ldc`.
    public static func timesTransposed(
        _ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
        _ w: UnsafePointer<Float>, ldw: Int, n: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
    ) {
        _ = singleThreadedBLAS
        guard m > 0, n > 0 else { return }
        // The columns (the weight's rows) are split, so that each core packs only its share of
        // the weight; thin weights split the rows instead. Whether and where a weight is split
        // depends on the weight alone, never on the rows sharing the call: OpenBLAS computes a
        // column by a path that depends on where the call's columns are cut into blocks (the
        // Haswell and Zen kernels), so an element is the same bits only under the same split.
        let parts = n * k < 1 << 16 ? 1 : Parallel.cores
        if parts == 1 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                        alpha, a, Int32(lda), w, Int32(ldw), beta, c, Int32(ldc))
        } else if n >= 64 * parts {
            Parallel.forEach(parts) { p in
                let c0 = columnSplit(p, of: parts, n), c1 = columnSplit(p + 1, of: parts, n)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(c1 - c0), Int32(k),
                            alpha, a, Int32(lda), w + c0 * ldw, Int32(ldw), beta, c + c0, Int32(ldc))
            }
        } else {
            Parallel.forEach(parts) { p in
                let r0 = rowSplit(p, of: parts, m), r1 = rowSplit(p + 1, of: parts, m)
                guard r1 > r0 else { return }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r1 - r0), Int32(n), Int32(k),
                            alpha, a + r0 * lda, Int32(lda), w, Int32(ldw), beta, c + r0 * ldc, Int32(ldc))
            }
        }
    }

    /// Where part `p` of `parts` starts among `m` rows: on a multiple of `RowAlignment.period`, so
    /// that each row keeps its index modulo the period in its part's call.
    static func rowSplit(_ p: Int, of parts: Int, _ m: Int) -> Int {
        p == parts ? m : (p * m / parts) / RowAlignment.period * RowAlignment.period
    }

    /// Where part `p` of `parts` starts among `n` columns: on a multiple of 16 (the width of the
    /// BLAS kernel's register tile), so that each part runs the same kernels a whole product would.
    static func columnSplit(_ p: Int, of parts: Int, _ n: Int) -> Int {
        p == parts ? n : (p * n / parts) & ~15
    }

    /// Single-threaded `c = alpha * a · bᵀ` (or `a · b` when `transposeB` is false; `a` is `[k, m]`
    /// and used transposed when `transposeA`), for callers that already run one product per core
    /// (attention heads).
    public static func serial(
        _ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
        _ b: UnsafePointer<Float>, ldb: Int, n: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0, transposeA: Bool = false
    ) {
        _ = singleThreadedBLAS
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `c[m, n] = alpha * op(a) · op(b) + beta * c` with op = transpose when asked: `a` is `[m, k]`
    /// (or `[k, m]` transposed), `b` is `[k, n]` (or `[n, k]`). The rows of `c` are split over the
    /// cores. The backward pass's products (`dX = dY · W`, `dW = dYᵀ · X`) go through here.
    public static func general(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        m: Int, n: Int, k: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
    ) {
        _ = singleThreadedBLAS
        guard m > 0, n > 0 else { return }
        let parts = m * n * k < 1 << 20 || m < 16 * Parallel.cores ? 1 : Parallel.cores
        Parallel.forEach(parts) { p in
            let r0 = rowSplit(p, of: parts, m), r1 = rowSplit(p + 1, of: parts, m)
            guard r1 > r0 else { return }
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(r1 - r0), Int32(n), Int32(k), alpha,
                        transposeA ? a + r0 : a + r0 * lda, Int32(lda), b, Int32(ldb),
                        beta, c + r0 * ldc, Int32(ldc))
        }
    }
}
