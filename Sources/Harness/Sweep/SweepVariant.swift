import BIP
import Foundation
import Runtime

/// An explicit entry of a sweep's plan (`variants` in the configuration): one method at its
/// sparsities (each with every seed of the sweep), with its own departures from the paper
/// setting, whether its pruned models are also tuned (with the sweep's `tune`), and which of
/// the sweep's tasks its jobs evaluate. Its jobs are keyed like the axes' jobs, so a job that
/// both plan is one job.
public struct SweepVariant: Codable, Equatable, Sendable {
    public var method: String
    public var sparsities: [Double]
    public var allocation: Allocation?
    public var statistics: StatisticsPass?
    public var biasCompensation: Bool?
    public var layers: LayerSelection?
    /// Each pruned model also LoRA-tuned with the sweep's `tune` and evaluated again.
    public var tune: Bool
    /// The sweep's tasks these jobs evaluate; nil: all of them.
    public var tasks: [String]?

    public init(method: String, sparsities: [Double], allocation: Allocation? = nil, statistics: StatisticsPass? = nil,
                biasCompensation: Bool? = nil, layers: LayerSelection? = nil, tune: Bool = false, tasks: [String]? = nil) {
        (self.method, self.sparsities, self.allocation, self.statistics) = (method, sparsities, allocation, statistics)
        (self.biasCompensation, self.layers, self.tune, self.tasks) = (biasCompensation, layers, tune, tasks)
    }

    enum CodingKeys: String, CodingKey {
        case method, sparsities, allocation, statistics, layers, tune, tasks
        case biasCompensation = "bias_compensation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(String.self, forKey: .method)
        sparsities = try c.decode([Double].self, forKey: .sparsities)
        allocation = try c.decodeIfPresent(Allocation.self, forKey: .allocation)
        statistics = try c.decodeIfPresent(StatisticsPass.self, forKey: .statistics)
        biasCompensation = try c.decodeIfPresent(Bool.self, forKey: .biasCompensation)
        layers = try c.decodeIfPresent(LayerSelection.self, forKey: .layers)
        tune = try c.decodeIfPresent(Bool.self, forKey: .tune) ?? false
        tasks = try c.decodeIfPresent([String].self, forKey: .tasks)
    }

    /// The settings asked for, as given.
    var overrides: PruningOverrides {
        PruningOverrides(allocation: allocation, statistics: statistics, biasCompensation: biasCompensation, layers: layers)
    }

    /// Checks the variant against the sweep it belongs to, saying what is possible when it is wrong.
    func validate(in config: SweepConfig) throws {
        let method = try ImportanceMethods.named(self.method)
        if let refusal = overrides.refusal(for: method) { throw FileError("sweep", "variant \(self.method): \(refusal)") }
        guard !sparsities.isEmpty, sparsities.allSatisfy({ $0 > 0 && $0 < 1 }), Set(sparsities).count == sparsities.count else {
            throw FileError("sweep", "variant \(self.method): sparsities must be a non-empty list without repeats of fractions strictly between 0 and 1")
        }
        if tune, config.tune == nil { throw FileError("sweep", "variant \(self.method) asks for the tune, but the sweep has no tune recipe") }
        if let tasks {
            guard !tasks.isEmpty, Set(tasks).count == tasks.count, tasks.allSatisfy(config.tasks.contains) else {
                throw FileError("sweep", "variant \(self.method): tasks must be a non-empty list without repeats of the sweep's tasks (\(config.tasks.joined(separator: ", ")))")
            }
        }
    }
}
