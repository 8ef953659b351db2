import Foundation

/// McNemar's exact test of two paired sets of right/wrong answers on the same documents: under
/// the null hypothesis the discordant documents split evenly, so with b = right before and wrong
/// now and c = the reverse, p = min(1, 2 · P(X ≤ min(b, c))) for X ~ Binomial(b + c, 1/2).
public enum McNemarTest {
    /// The two-sided exact p-value; 1 when no document changed.
    public static func pValue(before: [Bool], now: [Bool]) -> Double {
        precondition(before.count == now.count)
        var b = 0, c = 0
        for (x, y) in zip(before, now) {
            if x && !y { b += 1 } else if !x && y { c += 1 }
        }
        return pValue(b: b, c: c)
    }

    /// The exact two-sided p-value from the discordant counts: `b` documents right before and
    /// wrong now, `c` the other way round.
    public static func pValue(b: Int, c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        // log P(X = i) = log C(n, i) - n log 2, summed in Float64.
        var sum = 0.0
        for i in 0...k {
            sum += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) - Double(n) * log(2.0))
        }
        return min(1, 2 * sum)
    }
}
