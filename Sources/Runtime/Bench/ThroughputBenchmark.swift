import Foundation
import Kernels

/// Forward throughput on windows of real text: batches of `batch` windows of `seqLen` tokens, each
/// run from position 0 with log-probabilities of every next token (the perplexity workload),
/// repeated for about `seconds` after one warm-up batch. With `measuresCeiling`, the machine's
/// sgemm rate is measured in turn with the batches (the ceiling the forward pass is compared with),
/// and so is the rate of oneDNN's Float32 matmul on the same product with the weights packed once,
/// where the CPU has it (what the fp32 forward pass runs there: the ceiling of that path).
public struct ThroughputBenchmark: Sendable {
    public let batch: Int
    public let seqLen: Int
    public let seconds: Double
    public let measuresCeiling: Bool

    public init(batch: Int, seqLen: Int, seconds: Double, measuresCeiling: Bool = false) {
        self.batch = batch
        self.seqLen = seqLen
        self.seconds = seconds
        self.measuresCeiling = measuresCeiling
    }

    /// What one run measured for one model.
    public struct Result: Sendable {
        public let tokens: Int
        public let elapsed: Double
        public let tokensPerSecond: Double
        public let gflopsPerSecond: Double
    }

    /// What one run measured: each model's result, in the order given, and the sgemm and packed
    /// matmul rates when `measuresCeiling`.
    public struct Measurement: Sendable {
        public let results: [Result]
        public let sgemmGFLOPS: Double?
        public let packedGFLOPS: Double?
    }

    /// Runs the benchmark on the models batch by batch in turn on the same windows (each at least
    /// `seqLen` tokens; reused cyclically), and the sgemm probe after each round when
    /// `measuresCeiling`, so that whatever else the machine does slows them alike and cancels in
    /// their ratios.
    public func run(_ models: [LlamaModel], windows: [[Int]], progress: (String) -> Void = { _ in }) -> Measurement {
        precondition(!models.isEmpty && !windows.isEmpty && windows.allSatisfy { $0.count >= seqLen })
        let runners = models.map { BatchRunner(model: $0, batch: batch, seqLen: seqLen) }
        let batchFLOP = 2 * ModelCost.macsPerToken(models[0], context: seqLen) * Double(batch * seqLen)
        let probe = measuresCeiling ? SgemmProbe(repeats: max(1, Int((batchFLOP / SgemmProbe.flop).rounded()))) : nil
        var next = 0
        func batchWindows() -> [[Int]] {
            defer { next += batch }
            return (0..<batch).map { Array(windows[(next + $0) % windows.count].prefix(seqLen)) }
        }
        let warmUp = batchWindows()
        for runner in runners { runner.run(warmUp) }
        probe?.run()
        var elapsed = [Double](repeating: 0, count: runners.count)
        var probeElapsed = 0.0, packedElapsed = 0.0, probeFLOP = 0.0
        var tokens = 0
        let start = Date()
        repeat {
            let inputs = batchWindows()
            for (i, runner) in runners.enumerated() {
                let t0 = Date()
                runner.run(inputs)
                elapsed[i] += Date().timeIntervalSince(t0)
            }
            if let probe {
                let t0 = Date()
                probe.run()
                let t1 = Date()
                probe.runPacked()
                probeElapsed += t1.timeIntervalSince(t0)
                packedElapsed += Date().timeIntervalSince(t1)
                probeFLOP += Double(probe.repeats) * SgemmProbe.flop
            }
            tokens += batch * seqLen
            var rates = elapsed.map { String(format: "%.0f tokens/s", Double(tokens) / $0) }
            if probe != nil { rates.append(String(format: "sgemm %.1f GFLOP/s", probeFLOP / probeElapsed / 1e9)) }
            if probe?.packed != nil { rates.append(String(format: "packed %.1f GFLOP/s", probeFLOP / packedElapsed / 1e9)) }
            progress(String(format: "%d tokens, %@", tokens, rates.joined(separator: " / ")))
        } while Date().timeIntervalSince(start) < seconds * Double(runners.count + (probe?.kernels ?? 0))
        let results = zip(models, elapsed).map { model, time in
            let rate = Double(tokens) / time
            return Result(tokens: tokens, elapsed: time, tokensPerSecond: rate,
                          gflopsPerSecond: rate * 2 * ModelCost.macsPerToken(model, context: seqLen) / 1e9)
        }
        return Measurement(results: results, sgemmGFLOPS: probe.map { _ in probeFLOP / probeElapsed / 1e9 },
                           packedGFLOPS: probe?.packed.map { _ in probeFLOP / packedElapsed / 1e9 })
    }

    /// One model's forward pass, LM head and KV cache for batches of windows from position 0.
    private final class BatchRunner {
        let forward: ForwardPass
        let head: LanguageModelHead
        let cache: KVCache
        let seqLen: Int

        init(model: LlamaModel, batch: Int, seqLen: Int) {
            forward = ForwardPass(model: model)
            head = LanguageModelHead(model: model)
            cache = KVCache(model: model, slots: batch, capacity: seqLen)
            self.seqLen = seqLen
        }

        func run(_ windows: [[Int]]) {
            cache.reset()
            var inputs: [SequenceInput] = [], rows: [Int] = [], targets: [Int] = []
            for (slot, window) in windows.enumerated() {
                inputs.append(SequenceInput(slot: slot, tokens: window))
                for t in 0..<(seqLen - 1) {
                    rows.append(slot * seqLen + t)
                    targets.append(window[t + 1])
                }
            }
            _ = head.logProbabilities(forward(inputs, cache: cache), rows: rows, targets: targets)
        }
    }

    /// The machine's sgemm rate through the forward pass's BLAS path, on the shape of an FFN
    /// projection of a 1024-token batch (`[1024, 576] · [1536, 576]ᵀ`), `repeats` products a round;
    /// and the same products through oneDNN with the weights packed once, where the CPU has it.
    private final class SgemmProbe {
        static let (m, k, n) = (1024, 576, 1536)
        static let flop = 2 * Double(m * n * k)
        let repeats: Int
        let a = [Float](repeating: 0.5, count: m * k), w = [Float](repeating: 0.25, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        let packed: PackedMatmul?
        /// The kernels measured each round: sgemm, and the packed matmul where there is one.
        var kernels: Int { packed == nil ? 1 : 2 }

        init(repeats: Int) {
            self.repeats = repeats
            packed = PackedMatmul.isAvailable(.float32) ? w.withUnsafeBufferPointer { try? PackedMatmul(values: $0, rows: Self.n, columns: Self.k) } : nil
        }

        func runPacked() {
            guard let packed else { return }
            a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<repeats {
                        // Packed by this oneDNN on this CPU a moment ago: a failure is oneDNN's own.
                        do { try packed.product(a.baseAddress!, m: Self.m, into: c.baseAddress!, ldc: Self.n, accumulate: false) } catch {
                            preconditionFailure("packed probe: \(error)")
                        }
                    }
                }
            }
        }

        func run() {
            let (m, k, n) = (Self.m, Self.k, Self.n)
            a.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { w in
                    c.withUnsafeMutableBufferPointer { c in
                        for _ in 0..<repeats {
                            Matmul.timesTransposed(a.baseAddress!, lda: k, m: m, k: k, w.baseAddress!, ldw: k, n: n,
                                                   c.baseAddress!, ldc: n)
                        }
                    }
                }
            }
        }
    }

    /// Peak resident memory of this process so far, in bytes: Linux's `VmHWM`, which starts
    /// afresh at exec (unlike `ru_maxrss`, which a child inherits from the process that started
    /// it); `ru_maxrss` where there is no /proc.
    public static func peakMemoryBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kB = Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
            return kB * 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
