import Foundation

extension PairedBootstrap {
    /// The mean NLL per token of the windows at `indices`.
    static func meanNLL(_ windows: [PerplexityWindow], _ indices: [Int]) -> Double {
        PerplexityWindow.meanNLL(of: indices.lazy.map { windows[$0] })
    }

    /// The p-value of "two results on the same windows have the same perplexity": the difference
    /// of their mean NLL per token (the log of the perplexity ratio), windows resampled jointly.
    public func perplexityPValue(before: [PerplexityWindow], now: [PerplexityWindow]) -> Double {
        precondition(before.count == now.count && !before.isEmpty)
        let all = Array(before.indices)
        return pValue(observed: Self.meanNLL(now, all) - Self.meanNLL(before, all), strata: [before.count]) {
            Self.meanNLL(now, $0[0]) - Self.meanNLL(before, $0[0])
        }
    }

    /// The 95% interval of one result's perplexity over its windows (nil where a window's sum is NaN).
    public func perplexityInterval(_ windows: [PerplexityWindow]) -> ClosedRange<Double>? {
        interval(strata: [windows.count]) { exp(Self.meanNLL(windows, $0[0])) }
    }
}
