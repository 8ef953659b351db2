import Runtime

/// Row and column norms of a weight matrix `[out, in]`, in Double.
enum WeightNorms {
    /// `Σ_i |W[i, j]|` for every column j.
    static func columnL1(_ w: Linear) -> [Double] { columnSums(w) { Swift.abs($0) } }

    /// `Σ_i W[i, j]²` for every column j.
    static func columnSquares(_ w: Linear) -> [Double] { columnSums(w) { $0 * $0 } }

    /// `Σ_j |W[i, j]|` for every row i.
    static func rowL1(_ w: Linear) -> [Double] { rowSums(w) { Swift.abs($0) } }

    /// `Σ_j W[i, j]²` for every row i.
    static func rowSquares(_ w: Linear) -> [Double] { rowSums(w) { $0 * $0 } }

    /// `Σ_i |W[i, j]| * v[i]` for every column j: `|W|ᵀ v`.
    static func absTransposeTimes(_ w: Linear, _ v: [Double]) -> [Double] {
        precondition(v.count == w.outFeatures)
        var out = [Double](repeating: 0, count: w.inFeatures)
        w.weight.withFloats { weight in
            for i in 0..<w.outFeatures where v[i] != 0 {
                let row = weight.baseAddress! + i * w.inFeatures
                for j in 0..<w.inFeatures { out[j] += Swift.abs(Double(row[j])) * v[i] }
            }
        }
        return out
    }

    private static func columnSums(_ w: Linear, _ f: (Double) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: w.inFeatures)
        w.weight.withFloats { weight in
            for i in 0..<w.outFeatures {
                let row = weight.baseAddress! + i * w.inFeatures
                for j in 0..<w.inFeatures { out[j] += f(Double(row[j])) }
            }
        }
        return out
    }

    private static func rowSums(_ w: Linear, _ f: (Double) -> Double) -> [Double] {
        w.weight.withFloats { weight in
            (0..<w.outFeatures).map { i in
                let row = weight.baseAddress! + i * w.inFeatures
                var total = 0.0
                for j in 0..<w.inFeatures { total += f(Double(row[j])) }
                return total
            }
        }
    }
}

/// Score vectors: standardization and grouping of per-column scores into head scores.
enum ScoreMath {
    /// `(v - mean) / s`, s the sample standard deviation (denominator n-1).
    static func standardized(_ v: [Double]) -> [Double] {
        guard v.count > 1 else { return v.map { _ in 0 } }
        let mean = v.reduce(0, +) / Double(v.count)
        let s = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
        return v.map { s > 0 ? ($0 - mean) / s : 0 }
    }

    /// Sums of consecutive groups of `size` entries (a head's columns of A).
    static func groupSums(_ v: [Double], size: Int) -> [Double] {
        stride(from: 0, to: v.count, by: size).map { v[$0..<($0 + size)].reduce(0, +) }
    }

    /// Means of consecutive groups of `size` entries.
    static func groupMeans(_ v: [Double], size: Int) -> [Double] { groupSums(v, size: size).map { $0 / Double(size) } }
}
