import Foundation
import Runtime

/// A seeded bootstrap over units in strata (windows of a corpus, documents of each task): every
/// resample draws, stratum by stratum in order, as many unit indices with replacement as the
/// stratum holds, all from one `SeededGenerator(seed)`, so the same inputs give the same numbers.
/// Paired: the statistic sees the same drawn indices for both results it compares.
public struct PairedBootstrap: Sendable {
    public let resamples: Int
    public let seed: UInt64

    public init(resamples: Int = 1000, seed: UInt64 = 16) {
        precondition(resamples > 1)
        self.resamples = resamples
        self.seed = seed
    }

    /// `statistic` of each resample, in draw order; `strata` holds each stratum's unit count.
    public func distribution(strata: [Int], statistic: ([[Int]]) -> Double) -> [Double] {
        ResampleCache.shared.resamples(of: self, strata: strata).map(statistic)
    }

    /// Each resample's drawn indices, stratum by stratum: what `distribution` hands its statistic.
    fileprivate func draw(strata: [Int]) -> [[[Int]]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<resamples).map { _ in
            strata.map { count in (0..<count).map { _ in generator.index(below: count) } }
        }
    }

    /// The two-sided p-value of "the paired difference is 0": the observed difference over the
    /// standard deviation of the resampled ones, referred to the normal distribution,
    /// p = erfc(|observed| / (sd · √2)); 1 when nothing varies and nothing differs, 0 when nothing
    /// varies but the results differ. (A count of resamples beyond the observed one cannot go below
    /// 1 / resamples, too coarse for a correction over a table's many comparisons.)
    public func pValue(observed: Double, strata: [Int], difference: ([[Int]]) -> Double) -> Double {
        let draws = distribution(strata: strata, statistic: difference)
        let mean = draws.reduce(0, +) / Double(draws.count)
        let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)).squareRoot()
        guard sd > 0 else { return observed == 0 ? 1 : 0 }
        return erfc(abs(observed) / (sd * 2.0.squareRoot()))
    }

    /// The percentile interval holding the central 95% of the resampled statistic: the order
    /// statistics at ⌊0.025 · resamples⌋ and the mirror position; nil when a resample's statistic
    /// is not a number (a stored NaN).
    public func interval(strata: [Int], statistic: ([[Int]]) -> Double) -> ClosedRange<Double>? {
        let draws = distribution(strata: strata, statistic: statistic)
        guard !draws.contains(where: \.isNaN) else { return nil }
        let sorted = draws.sorted(), k = Int((0.025 * Double(resamples)).rounded(.down))
        return sorted[k]...sorted[resamples - 1 - k]
    }
}

/// The resamples' indices of the last few (seed, resamples, strata) a process asked for. They
/// depend on nothing else, and a report asks for the same few many times (every result's windows
/// of one corpus, every result's documents of the same tasks), so each is drawn once instead of
/// once per comparison, where drawing was nearly all of a report's time.
private final class ResampleCache: @unchecked Sendable {
    static let shared = ResampleCache()
    /// The entries kept (a report uses one per perplexity corpus and one for the tasks).
    static let capacity = 8

    private struct Key: Equatable {
        let seed: UInt64
        let resamples: Int
        let strata: [Int]
    }

    private let lock = NSLock()
    /// Least recently used first.
    private var entries: [(key: Key, resamples: [[[Int]]])] = []

    func resamples(of bootstrap: PairedBootstrap, strata: [Int]) -> [[[Int]]] {
        let key = Key(seed: bootstrap.seed, resamples: bootstrap.resamples, strata: strata)
        lock.lock()
        defer { lock.unlock() }
        if let i = entries.firstIndex(where: { $0.key == key }) {
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry.resamples
        }
        let drawn = bootstrap.draw(strata: strata)
        entries.append((key, drawn))
        if entries.count > Self.capacity { entries.removeFirst() }
        return drawn
    }
}
