/// Holm's step-down correction for a family of m tests: sorted ascending, the i-th smallest
/// p-value (from 1) is multiplied by m − i + 1, capped at 1, and made no smaller than the one
/// before it. A test is significant at level α when its adjusted p-value is at most α; this
/// controls the chance of any false positive in the family at α, without assuming independence.
public enum HolmCorrection {
    /// The adjusted p-values, in the order of `pValues` (equal p-values keep their given order).
    public static func adjusted(_ pValues: [Double]) -> [Double] {
        let m = pValues.count
        let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
        var adjusted = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }
}
