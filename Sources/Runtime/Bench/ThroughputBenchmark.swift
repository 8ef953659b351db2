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
        precondition(!windows.isEmpty && windows.allSatisfy { $0.count >= seqLen })
        let forward = ForwardPass(model: model)
        let head = LanguageModelHead(model: model)
        let cache = KVCache(model: model, slots: batch, capacity: seqLen)
        var next = 0
        func runBatch() {
            cache.reset()
            var inputs: [SequenceInput] = []
            var rows: [Int] = [], targets: [Int] = []
            for slot in 0..<batch {
                let window = Array(windows[next % windows.count].prefix(seqLen))
                next += 1
                inputs.append(SequenceInput(slot: slot, tokens: window))
                for t in 0..<(seqLen - 1) {
                    rows.append(slot * seqLen + t)
                    targets.append(window[t + 1])
                }
            }
            let hidden = forward(inputs, cache: cache)
            _ = head.logProbabilities(hidden, rows: rows, targets: targets)
        }
        runBatch()
        let start = Date()
        var tokens = 0
        repeat {
            runBatch()
            tokens += batch * seqLen
            let elapsed = Date().timeIntervalSince(start)
            progress(String(format: "%d tokens, %.0f tokens/s", tokens, Double(tokens) / elapsed))
        } while Date().timeIntervalSince(start) < seconds
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(tokens) / elapsed
        return Result(tokens: tokens, elapsed: elapsed, tokensPerSecond: rate,
                      gflopsPerSecond: rate * 2 * ModelCost.macsPerToken(model, context: seqLen) / 1e9)
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

    /// Peak resident memory of this process, in bytes.
    public static func peakMemoryBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
