import Foundation
import BIP
import Gradients
import Runtime
import Tasks

/// What a sweep evaluates: the dense model once, then every method × sparsity × seed pruned (the
/// axes' cross product), then the explicit `variants`, evaluated on the sweep's tasks (a variant's
/// jobs on its own subset of them). The same fields come from the command line or a `--config`
/// JSON file (the keys of `CodingKeys`); the sweep stores it so `--resume` can continue by name.
public struct SweepConfig: Codable, Equatable, Sendable {
    public var model: String
    public var methods: [String]
    public var sparsities: [Double]
    public var seeds: [UInt64]
    public var tasks: [String]
    /// The first N documents / windows of each task; nil: all.
    public var limit: Int?
    /// The first N documents of each zero-shot task, every window of each perplexity corpus
    /// (not together with `limit`); nil: all documents.
    public var documentLimit: Int?
    public var evalProtocol: EvalProtocol
    public var seqLen: Int
    public var calibration: String
    /// Seconds of each forward-throughput measurement (0: no throughput measured).
    public var benchSeconds: Double
    /// Rounds of the interleaved dense / pruned throughput measurement.
    public var benchRounds: Int
    /// When set, every pruned model of the axes (and of the variants that ask for it) is also
    /// tuned with LoRA and evaluated again (the "w/ tune" rows).
    public var tune: SweepTune?
    /// The pruning axes: each method is pruned under every combination of their values that
    /// applies to it (`pruningVariants(of:)`); nil: the method's paper setting (or default layers).
    public var allocations: [Allocation]?
    public var statistics: [StatisticsPass]?
    public var biasCompensation: [Bool]?
    public var layers: [LayerSelection]?
    /// Explicit jobs planned after the axes' cross product (instead of it when `methods` is empty).
    public var variants: [SweepVariant]?
    /// Each task's documents (or windows) in units of work of this many, which workers evaluate
    /// on their own (`TaskShard`); nil: one unit per task. The metrics do not depend on it.
    public var shardSize: Int?
    /// The arithmetic of every evaluation (pruning is always Float32); nil: `fp32`.
    public var compute: ComputePrecision?

    public init(model: String, methods: [String], sparsities: [Double], seeds: [UInt64] = [0], tasks: [String],
                limit: Int? = nil, evalProtocol: EvalProtocol = .llmPruner, seqLen: Int = 128,
                calibration: String = CalibrationSource.standard.description, benchSeconds: Double = 3, benchRounds: Int = 1,
                tune: SweepTune? = nil, allocations: [Allocation]? = nil, statistics: [StatisticsPass]? = nil,
                biasCompensation: [Bool]? = nil, layers: [LayerSelection]? = nil, documentLimit: Int? = nil,
                variants: [SweepVariant]? = nil, shardSize: Int? = nil, compute: ComputePrecision? = nil) {
        self.model = model
        self.methods = methods
        self.sparsities = sparsities
        self.seeds = seeds
        self.tasks = tasks
        self.limit = limit
        self.evalProtocol = evalProtocol
        self.seqLen = seqLen
        self.calibration = calibration
        self.benchSeconds = benchSeconds
        self.benchRounds = benchRounds
        self.tune = tune
        self.allocations = allocations
        self.statistics = statistics
        self.biasCompensation = biasCompensation
        self.layers = layers
        self.documentLimit = documentLimit
        self.variants = variants
        self.shardSize = shardSize
        self.compute = compute
    }

    enum CodingKeys: String, CodingKey {
        case model, methods, sparsities, seeds, tasks, limit, calibration, tune, allocations, statistics, layers, variants, compute
        case biasCompensation = "bias_compensation", documentLimit = "document_limit", shardSize = "shard_size"
        case evalProtocol = "protocol", seqLen = "seq_len", benchSeconds = "bench_seconds", benchRounds = "bench_rounds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SweepConfig(model: "", methods: [], sparsities: [], tasks: [])
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? "smollm2-135m"
        variants = try c.decodeIfPresent([SweepVariant].self, forKey: .variants)
        // Without variants, the axes are the plan: methods and sparsities are needed.
        methods = try variants == nil ? c.decode([String].self, forKey: .methods) : c.decodeIfPresent([String].self, forKey: .methods) ?? []
        sparsities = try variants == nil || !methods.isEmpty
            ? c.decode([Double].self, forKey: .sparsities) : c.decodeIfPresent([Double].self, forKey: .sparsities) ?? []
        seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? defaults.seeds
        tasks = try c.decodeIfPresent([String].self, forKey: .tasks) ?? TaskCatalog.names
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        documentLimit = try c.decodeIfPresent(Int.self, forKey: .documentLimit)
        evalProtocol = try c.decodeIfPresent(String.self, forKey: .evalProtocol).map(Self.evalProtocol(named:)) ?? defaults.evalProtocol
        seqLen = try c.decodeIfPresent(Int.self, forKey: .seqLen) ?? defaults.seqLen
        calibration = try c.decodeIfPresent(String.self, forKey: .calibration) ?? defaults.calibration
        benchSeconds = try c.decodeIfPresent(Double.self, forKey: .benchSeconds) ?? defaults.benchSeconds
        benchRounds = try c.decodeIfPresent(Int.self, forKey: .benchRounds) ?? defaults.benchRounds
        tune = try c.decodeIfPresent(SweepTune.self, forKey: .tune)
        allocations = try c.decodeIfPresent([Allocation].self, forKey: .allocations)
        statistics = try c.decodeIfPresent([StatisticsPass].self, forKey: .statistics)
        biasCompensation = try c.decodeIfPresent([Bool].self, forKey: .biasCompensation)
        layers = try c.decodeIfPresent([LayerSelection].self, forKey: .layers)
        shardSize = try c.decodeIfPresent(Int.self, forKey: .shardSize)
        compute = try c.decodeIfPresent(ComputePrecision.self, forKey: .compute)
    }

    /// The configuration stored sweep `record` of `store` was planned from; one this bip cannot
    /// read (a newer bip's, or a damaged row) is an error naming the database and the sweep.
    public static func stored(_ record: SweepRecord, in store: ResultStore) throws -> SweepConfig {
        do {
            return try JSONDecoder().decode(SweepConfig.self, from: Data(record.config.utf8))
        } catch let error as DecodingError {
            throw FileError(store.path, "sweep '\(record.name)' has a configuration this bip cannot read: \(describe(error))")
        }
    }

    /// Reads a `--config` file; a bad file is an error naming it.
    public static func load(_ path: String) throws -> SweepConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path, "cannot read the sweep configuration") }
        do {
            let config = try JSONDecoder().decode(SweepConfig.self, from: data)
            try config.validate()
            return config
        } catch let error as DecodingError {
            throw FileError(path, "not a sweep configuration: \(Self.describe(error))")
        } catch let error as FileError {
            throw FileError(path, error.problem)
        } catch let error as any InputError {
            throw FileError(path, error.description)
        }
    }

    /// Checks every field, saying what is possible when one is not.
    public func validate() throws {
        if let shardSize, shardSize < 1 { throw FileError("sweep", "shard_size must be at least 1") }
        guard !methods.isEmpty || !(variants ?? []).isEmpty else { throw FileError("sweep", "no methods given") }
        if methods.isEmpty, allocations != nil || statistics != nil || biasCompensation != nil || layers != nil || !sparsities.isEmpty {
            throw FileError("sweep", "sparsities, allocations, statistics, bias_compensation and layers are axes of the methods: give methods, or set them in the variants")
        }
        if let variants, variants.isEmpty { throw FileError("sweep", "variants must be a non-empty list when given") }
        for axis in [allocations?.map(\.rawValue), statistics?.map(\.rawValue), biasCompensation?.map(String.init),
                     layers?.map(\.description)] {
            guard let axis else { continue }
            guard !axis.isEmpty, Set(axis).count == axis.count else {
                throw FileError("sweep", "allocations, statistics, bias_compensation and layers must be non-empty lists without repeats when given")
            }
        }
        for name in methods {
            let method = try ImportanceMethods.named(name)
            if pruningVariants(of: method).isEmpty {
                let refusal = axisCombinations.compactMap { $0.refusal(for: method) }.first ?? ""
                throw FileError("sweep", "the pruning axes give \(name) no job: \(refusal)")
            }
        }
        guard Set(methods).count == methods.count else { throw FileError("sweep", "a method is listed twice") }
        guard methods.isEmpty || !sparsities.isEmpty, sparsities.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw FileError("sweep", "sparsities must be a non-empty list of fractions strictly between 0 and 1")
        }
        guard Set(sparsities).count == sparsities.count, Set(seeds).count == seeds.count, !seeds.isEmpty else {
            throw FileError("sweep", "sparsities and seeds must be non-empty lists without repeats")
        }
        guard !tasks.isEmpty else { throw FileError("sweep", "no tasks given") }
        for task in tasks where !TaskCatalog.names.contains(task) {
            throw FileError("sweep", "unknown task '\(task)' (known: \(TaskCatalog.names.joined(separator: ", ")))")
        }
        if let limit, limit < 1 { throw FileError("sweep", "limit must be at least 1") }
        if let documentLimit, documentLimit < 1 { throw FileError("sweep", "document_limit must be at least 1") }
        if limit != nil, documentLimit != nil {
            throw FileError("sweep", "give limit (documents and windows) or document_limit (documents only), not both")
        }
        guard seqLen >= 2 else { throw FileError("sweep", "seq_len must be at least 2") }
        _ = try CalibrationSource(parsing: calibration)
        guard benchSeconds >= 0, benchRounds >= 1 else { throw FileError("sweep", "bench_seconds must be ≥ 0 and bench_rounds ≥ 1") }
        if let tune {
            do { try tune.options.validate() } catch { throw FileError("sweep", "tune: \(error)") }
            guard tune.data == "c4" || FileManager.default.fileExists(atPath: tune.data) else {
                throw FileError("sweep", "tune data '\(tune.data)' is neither c4 nor an existing Alpaca JSONL file")
            }
        }
        for variant in variants ?? [] { try variant.validate(in: self) }
    }

    /// The protocol called `name`; any other name is an error saying which exist.
    static func evalProtocol(named name: String) throws -> EvalProtocol {
        guard let evalProtocol = EvalProtocol(rawValue: name) else {
            throw FileError("sweep", "protocol must be one of \(EvalProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return evalProtocol
    }

    /// The jobs in the order they run: the dense model, then method by method, sparsity by
    /// sparsity, seed by seed; with `tune`, each pruned model's tuned variant right after it;
    /// then the variants' jobs in the same order, each job planned once.
    public var jobs: [SweepJobSpec] { plan.map(\.spec) }

    /// The sweep's tasks that `spec` evaluates (all of them for a job the plan does not have).
    public func tasks(of spec: SweepJobSpec) -> [String] { plan.first { $0.spec == spec }?.tasks ?? tasks }

    /// Each planned job with the sweep's tasks it evaluates: a job planned by the axes and by
    /// variants is one job that evaluates every task any of them asks for, in the sweep's order.
    var plan: [(spec: SweepJobSpec, tasks: [String])] {
        var planned = [(spec: SweepJobSpec.dense, tasks: tasks)]
        func add(_ spec: SweepJobSpec, _ asked: [String]) {
            if let i = planned.firstIndex(where: { $0.spec == spec }) {
                planned[i].tasks = tasks.filter { planned[i].tasks.contains($0) || asked.contains($0) }
            } else {
                planned.append((spec, asked))
            }
        }
        for method in methods {
            let variants = (try? ImportanceMethods.named(method)).map(pruningVariants(of:)) ?? [PruningOverrides()]
            for pruning in variants {
                for sparsity in sparsities {
                    for seed in seeds {
                        let pruned = SweepJobSpec(method: method, sparsity: sparsity, seed: seed, pruning: pruning)
                        add(pruned, tasks)
                        if tune != nil { add(pruned.withTune, tasks) }
                    }
                }
            }
        }
        for variant in variants ?? [] {
            let paper = (try? ImportanceMethods.named(variant.method))?.paperSetting
            let pruning = paper.map(variant.overrides.departures(from:)) ?? variant.overrides
            let asked = variant.tasks.map { own in tasks.filter(own.contains) } ?? tasks
            for sparsity in variant.sparsities {
                for seed in seeds {
                    let pruned = SweepJobSpec(method: variant.method, sparsity: sparsity, seed: seed, pruning: pruning)
                    add(pruned, asked)
                    if variant.tune { add(pruned.withTune, asked) }
                }
            }
        }
        return planned
    }

    /// Every combination of the pruning axes' values (one without overrides when no axis is given).
    var axisCombinations: [PruningOverrides] {
        var combinations: [PruningOverrides] = []
        for allocation in allocations.map({ $0.map(Optional.some) }) ?? [nil] {
            for pass in statistics.map({ $0.map(Optional.some) }) ?? [nil] {
                for bias in biasCompensation.map({ $0.map(Optional.some) }) ?? [nil] {
                    for layers in layers.map({ $0.map(Optional.some) }) ?? [nil] {
                        combinations.append(PruningOverrides(allocation: allocation, statistics: pass, biasCompensation: bias, layers: layers))
                    }
                }
            }
        }
        return combinations
    }

    /// The pruning variants `method` is swept over: the axes' combinations that apply to it (a
    /// combination it refuses, such as sequential statistics with global allocation, or any
    /// statistics value for a method that reads none, gives no job), as departures from its
    /// paper setting, in axis order.
    public func pruningVariants(of method: any ImportanceMethod) -> [PruningOverrides] {
        var variants: [PruningOverrides] = []
        for combination in axisCombinations where combination.refusal(for: method) == nil {
            let variant = combination.departures(from: method.paperSetting)
            if !variants.contains(variant) { variants.append(variant) }
        }
        return variants
    }

    /// The first N windows of each perplexity corpus a job evaluates; nil: every window.
    public var windowsEvaluated: Int? { limit }
    /// The first N documents of each zero-shot task a job evaluates; nil: every document.
    public var documentsEvaluated: Int? { documentLimit ?? limit }

    /// The configuration as stored: sorted-key JSON.
    public var json: String { sortedKeyJSON() }

    /// The name a sweep gets when none is given: `sweep-` and the first 10 hex digits of the
    /// configuration's sha256, so the same arguments find the same sweep again.
    public var defaultName: String { "sweep-" + String(SHA256.hex(of: Data(json.utf8)).prefix(10)) }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
