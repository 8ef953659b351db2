import Foundation
import Runtime

/// `reports/baseline.json`: the results a later run must not fall behind.
public struct Baseline: Codable, Equatable, Sendable {
    public var entries: [GateEntry]

    public init(entries: [GateEntry]) { self.entries = entries }

    public static func load(_ path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path, "cannot read the baseline") }
        do { return try JSONDecoder().decode(Baseline.self, from: data) } catch let error as DecodingError {
            throw FileError(path, "not a bip baseline: \(SweepConfig.describe(error))")
        }
    }

    /// Writes the baseline to `path`, whole or not at all (`AtomicFile`).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: URL(fileURLWithPath: path))
    }
}

/// Compares current results with a baseline: a perplexity may rise by at most a fraction
/// `maxPerplexityIncrease` of the baseline, an accuracy may drop by at most `maxAccuracyDrop`
/// (absolute); a baseline result with no current counterpart is a failure too. Accuracies with
/// per-document answers on both sides also get McNemar's exact p-value; perplexities get the
/// paired bootstrap's p-value over windows when both runs' windows are at hand (the baseline's
/// run in the same database: its stored windows give back the baseline's value exactly).
public struct RegressionGate: Sendable {
    public var maxPerplexityIncrease: Double
    public var maxAccuracyDrop: Double

    public init(maxPerplexityIncrease: Double = 0.01, maxAccuracyDrop: Double = 0.02) {
        self.maxPerplexityIncrease = maxPerplexityIncrease
        self.maxAccuracyDrop = maxAccuracyDrop
    }

    /// One compared result.
    public struct Check: Sendable, Equatable {
        /// Within the tolerance, past it, or absent from the new results.
        public enum Verdict: String, Sendable { case ok, regression, missing }
        public let key: ResultKey
        public let baseline: Double
        public let now: Double?
        /// The worst value the tolerance allows.
        public let allowed: Double
        /// McNemar's for an accuracy, the paired bootstrap's for a perplexity; nil where not tested.
        public let pValue: Double?
        public let verdict: Verdict

        /// The name of the paired test for this check's metric.
        public var test: String { key.metric == "ppl" ? "bootstrap" : "McNemar" }
    }

    /// Every baseline entry checked, in key order, and the current keys the baseline lacks.
    /// `windows(runID, task)`: the stored perplexity windows of a run, if any.
    public func compare(_ baseline: Baseline, with current: [GateEntry],
                        windows: (Int64, String) -> [PerplexityWindow]? = { _, _ in nil }) -> (checks: [Check], new: [ResultKey]) {
        let now = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        var checks: [Check] = []
        for entry in baseline.entries.sorted(by: { $0.key < $1.key }) {
            let lowerIsBetter = entry.key.metric == "ppl"
            let allowed = lowerIsBetter ? entry.value * (1 + maxPerplexityIncrease) : entry.value - maxAccuracyDrop
            guard let current = now[entry.key] else {
                checks.append(Check(key: entry.key, baseline: entry.value, now: nil, allowed: allowed, pValue: nil, verdict: .missing))
                continue
            }
            var p: Double?
            if let a = entry.correct, let b = current.correct, a.count == b.count {
                p = McNemarTest.pValue(before: a.map { $0 == "1" }, now: b.map { $0 == "1" })
            }
            if lowerIsBetter, let baseRun = entry.runID, let nowRun = current.runID,
               let a = windows(baseRun, entry.key.task), !a.isEmpty, PerplexityWindow.perplexity(of: a) == entry.value,
               let b = windows(nowRun, entry.key.task), b.count == a.count {
                p = PairedBootstrap().perplexityPValue(before: a, now: b)
            }
            // Written so that a value that is not a number is a regression, not within the tolerance.
            let bad = !(lowerIsBetter ? current.value <= allowed : current.value >= allowed)
            checks.append(Check(key: entry.key, baseline: entry.value, now: current.value, allowed: allowed, pValue: p,
                                verdict: bad ? .regression : .ok))
        }
        let known = Set(baseline.entries.map(\.key))
        return (checks, current.map(\.key).filter { !known.contains($0) }.sorted())
    }
}
