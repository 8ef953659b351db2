import BIP
import Foundation
import Runtime
import Tasks

/// One option of `bip sweep` that sets a field of the sweep's configuration: its flag, the
/// value a configuration prints for it, and how a value given on the command line sets it.
/// `SweepCommandLine` prints a stored sweep with this table and `bip sweep` applies its options
/// with it, so the command line in a report always plans the same sweep again.
public struct SweepOption: Sendable {
    /// The flag without its dashes, e.g. `seq-len`.
    public let flag: String
    /// False for a flag that is present or not (`--tune`).
    public let takesValue: Bool
    private let value: @Sendable (SweepConfig) -> String?
    private let set: @Sendable (inout SweepConfig, String) throws -> Void

    init(_ flag: String, takesValue: Bool = true, value: @escaping @Sendable (SweepConfig) -> String?,
         set: @escaping @Sendable (inout SweepConfig, String) throws -> Void) {
        self.flag = flag
        self.takesValue = takesValue
        self.value = value
        self.set = set
    }

    /// `--flag value` (or `--flag`) as printed for `config`, the value in single quotes when a
    /// shell would read it otherwise (`'4..<28'`); nil when `config` leaves it out.
    public func text(_ config: SweepConfig) -> String? {
        value(config).map { value in
            let quoted = value.contains { "<>|&;()$` *?\"{}[]".contains($0) } ? "'\(value)'" : value
            return takesValue ? "--\(flag) \(quoted)" : "--\(flag)"
        }
    }

    /// Sets the field of `config` to `value` as given on the command line (ignored for a flag
    /// without value); a value that does not parse is a `SweepUsageError`.
    public func apply(_ value: String, to config: inout SweepConfig) throws { try set(&config, value) }

    /// Every option, in the order a command line prints them.
    public static let all: [SweepOption] = [
        SweepOption("model", value: { $0.model }, set: { $0.model = $1 }),
        SweepOption("methods", value: { $0.methods.isEmpty ? nil : $0.methods.joined(separator: ",") }, set: { $0.methods = try list($1, "methods") { $0 } }),
        SweepOption("sparsities", value: { $0.sparsities.isEmpty ? nil : $0.sparsities.map { "\($0)" }.joined(separator: ",") },
                    set: { $0.sparsities = try list($1, "sparsities", Double.init) }),
        SweepOption("seeds", value: { $0.seeds.map(String.init).joined(separator: ",") }, set: { $0.seeds = try list($1, "seeds") { UInt64($0) } }),
        SweepOption("tasks", value: { $0.tasks == TaskCatalog.names ? "all" : $0.tasks.joined(separator: ",") },
                    set: { $0.tasks = $1 == "all" ? TaskCatalog.names : try list($1, "tasks") { $0 } }),
        SweepOption("limit", value: { $0.limit.map(String.init) }, set: { $0.limit = try number($1, "limit", Int.init) }),
        SweepOption("document-limit", value: { $0.documentLimit.map(String.init) },
                    set: { $0.documentLimit = try number($1, "document-limit", Int.init) }),
        SweepOption("protocol", value: { $0.evalProtocol.rawValue }, set: { $0.evalProtocol = try choice($1, "protocol") }),
        SweepOption("seq-len", value: { String($0.seqLen) }, set: { $0.seqLen = try number($1, "seq-len", Int.init) }),
        SweepOption("calibration", value: { $0.calibration }, set: { $0.calibration = $1 }),
        SweepOption("bench-seconds", value: { "\($0.benchSeconds)" }, set: { $0.benchSeconds = try number($1, "bench-seconds", Double.init) }),
        SweepOption("bench-rounds", value: { String($0.benchRounds) }, set: { $0.benchRounds = try number($1, "bench-rounds", Int.init) }),
        SweepOption("tune", takesValue: false, value: { $0.tune.map { _ in "" } }, set: { config, _ in config.tune = config.tune ?? SweepTune() }),
        SweepOption("tune-data", value: { $0.tune?.data }, set: { config, value in tuning(&config) { $0.data = value } }),
        SweepOption("tune-batch", value: { $0.tune.map { String($0.options.batch) } }, set: { config, value in
            let batch = try number(value, "tune-batch", Int.init)
            tuning(&config) {
                $0.options.batch = batch
                $0.options.microBatch = min($0.options.microBatch, batch)
            }
        }),
        SweepOption("tune-max-steps", value: { $0.tune?.options.maxSteps.map(String.init) }, set: { config, value in
            let steps = try number(value, "tune-max-steps", Int.init)
            tuning(&config) { $0.options.maxSteps = steps }
        }),
        SweepOption("tune-recipe", value: { config in
            guard let tune = config.tune, tune != tuneFromShortFlags(config) else { return nil }
            return tune.json
        }, set: { config, value in
            guard let tune = try? JSONDecoder().decode(SweepTune.self, from: Data(value.utf8)) else {
                throw SweepUsageError("--tune-recipe: '\(value)' is not a tune recipe (a JSON object with data, held_out and options)")
            }
            config.tune = tune
        }),
        SweepOption("allocations", value: { $0.allocations?.map(\.rawValue).joined(separator: ",") },
                    set: { $0.allocations = try list($1, "allocations", Allocation.init(rawValue:)) }),
        SweepOption("statistics", value: { $0.statistics?.map(\.rawValue).joined(separator: ",") },
                    set: { $0.statistics = try list($1, "statistics", StatisticsPass.init(rawValue:)) }),
        SweepOption("bias-compensation", value: { $0.biasCompensation?.map { $0 ? "on" : "off" }.joined(separator: ",") },
                    set: { $0.biasCompensation = try list($1, "bias-compensation") { ["on": true, "off": false][$0] } }),
        SweepOption("layers", value: { $0.layers?.map(\.description).joined(separator: ",") },
                    set: { $0.layers = try list($1, "layers") { try? LayerSelection(parsing: $0) } }),
        SweepOption("compute", value: { $0.compute?.rawValue }, set: { config, value in
            let compute: ComputePrecision = try choice(value, "compute")
            config.compute = compute == .fp32 ? nil : compute
        }),
        SweepOption("shard-size", value: { $0.shardSize.map(String.init) }, set: { $0.shardSize = try number($1, "shard-size", Int.init) }),
        SweepOption("variants", value: { $0.variants?.sortedKeyJSON() },
                    set: { $0.variants = try number($1, "variants") { try? JSONDecoder().decode([SweepVariant].self, from: Data($0.utf8)) } }),
    ]

    /// The tune that `config`'s printed `--tune`, `--tune-data`, `--tune-batch` and
    /// `--tune-max-steps` give back; where it is not `config.tune`, `--tune-recipe` says the rest.
    private static func tuneFromShortFlags(_ config: SweepConfig) -> SweepTune? {
        var rebuilt = SweepConfig(model: config.model, methods: [], sparsities: [], tasks: [])
        for option in all where option.flag.hasPrefix("tune") && option.flag != "tune-recipe" {
            if let value = option.value(config) { try? option.apply(value, to: &rebuilt) }
        }
        return rebuilt.tune
    }

    /// Any tune option turns the tune on, from the default settings.
    private static func tuning(_ config: inout SweepConfig, _ change: (inout SweepTune) -> Void) {
        var settings = config.tune ?? SweepTune()
        change(&settings)
        config.tune = settings
    }

    private static func list<T>(_ text: String, _ flag: String, _ parse: (String) -> T?) throws -> [T] {
        try text.split(separator: ",").map {
            let item = $0.trimmingCharacters(in: .whitespaces)
            guard let value = parse(item) else { throw SweepUsageError("--\(flag): '\(item)' is not valid") }
            return value
        }
    }

    /// The case of `T` named `text`; any other text is an error listing the cases.
    private static func choice<T: RawRepresentable & CaseIterable>(_ text: String, _ flag: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw SweepUsageError("--\(flag): '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private static func number<T>(_ text: String, _ flag: String, _ parse: (String) -> T?) throws -> T {
        guard let value = parse(text) else { throw SweepUsageError("--\(flag): '\(text)' is not valid") }
        return value
    }
}

/// The `bip sweep` command line that plans exactly a stored sweep.
enum SweepCommandLine {
    static func text(_ config: SweepConfig, name: String) -> String {
        (["bip sweep"] + SweepOption.all.compactMap { $0.text(config) } + ["--name \(name)"]).joined(separator: " \\\n    ")
    }
}
