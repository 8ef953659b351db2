import Foundation
import Kernels

/// Forward throughput on windows of real text: batches of `batch` windows of `seqLen` tokens, each
/// run from position 0 with log-probabilities of every next token (the perplexity workload),
/// repeated for about `seconds` after one warm-up batch.
public struct ThroughputBenchmark: Sendable {
    public let batch: Int
    public let seqLen: Int
    public let seconds: Double

    public init(batch: Int, seqLen: Int, seconds: Double) {
        self.batch = batch
        self.seqLen = seqLen
        self.seconds = seconds
    }

    /// What one run measured.
    public struct Result: Sendable {
        public let tokens: Int
        public let elapsed: Double
        public let tokensPerSecond: Double
        public let gflopsPerSecond: Double
    }

    /// Runs the benchmark over `windows` (each at least `seqLen` tokens; reused cyclically).
    public func run(_ model: LlamaModel, windows: [[Int]], progress: (String) -> Void = { _ in }) -> Result {
        run([model], windows: windows, progress: progress)[0]
    }

    /// Runs the benchmark on several models at once, batch by batch in turn on the same windows,
    /// so that whatever else the machine does slows them alike and cancels in their ratio.
    public func run(_ models: [LlamaModel], windows: [[Int]], progress: (String) -> Void = { _ in }) -> [Result] {
        precondition(!models.isEmpty && !windows.isEmpty && windows.allSatisfy { $0.count >= seqLen })
        let runners = models.map { BatchRunner(model: $0, batch: batch, seqLen: seqLen) }
        var next = 0
        func batchWindows() -> [[Int]] {
            defer { next += batch }
            return (0..<batch).map { Array(windows[(next + $0) % windows.count].prefix(seqLen)) }
        }
        let warmUp = batchWindows()
        for runner in runners { runner.run(warmUp) }
        var elapsed = [Double](repeating: 0, count: runners.count)
        var tokens = 0
        let start = Date()
        repeat {
            let inputs = batchWindows()
            for (i, runner) in runners.enumerated() {
                let t0 = Date()
                runner.run(inputs)
                elapsed[i] += Date().timeIntervalSince(t0)
            }
            tokens += batch * seqLen
            progress(String(format: "%d tokens, %@", tokens,
                            elapsed.map { String(format: "%.0f tokens/s", Double(tokens) / $0) }.joined(separator: " / ")))
        } while Date().timeIntervalSince(start) < seconds * Double(runners.count)
        return zip(models, elapsed).map { model, time in
            let rate = Double(tokens) / time
            return Result(tokens: tokens, elapsed: time, tokensPerSecond: rate,
                          gflopsPerSecond: rate * 2 * ModelCost.macsPerToken(model, context: seqLen) / 1e9)
        }
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

    /// This machine's sgemm rate through the same BLAS path, on the shape of an FFN projection of a
    /// 1024-token batch (`[1024, 576] · [1536, 576]ᵀ`), over about `seconds`.
    public static func sgemmGFLOPS(seconds: Double = 2) -> Double {
        let m = 1024, k = 576, n = 1536
        let a = [Float](repeating: 0.5, count: m * k), w = [Float](repeating: 0.25, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        var runs = 0
        let start = Date()
        a.withUnsafeBufferPointer { a in
            w.withUnsafeBufferPointer { w in
                c.withUnsafeMutableBufferPointer { c in
                    repeat {
                        Matmul.timesTransposed(a.baseAddress!, lda: k, m: m, k: k, w.baseAddress!, ldw: k, n: n, c.baseAddress!, ldc: n)
                        runs += 1
                    } while Date().timeIntervalSince(start) < seconds
                }
            }
        }
        return Double(runs) * 2 * Double(m * n * k) / Date().timeIntervalSince(start) / 1e9
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
