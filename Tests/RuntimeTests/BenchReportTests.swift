import Foundation
@testable import Runtime
import XCTest

/// `bip bench --json`'s figures: the keys it has always printed, and read back as written.
final class BenchReportTests: XCTestCase {
    func testKeysAndRoundTrip() throws {
        var report = BenchReport(model: "/m/a.gguf", benchmark: ThroughputBenchmark(batch: 8, seqLen: 128, seconds: 2),
                                 measured: .init(tokens: 2048, elapsed: 2, tokensPerSecond: 1024, gflopsPerSecond: 256),
                                 gflopPerToken: 0.25, peakMemoryBytes: 1000)
        report.cores = 2
        XCTAssertEqual(report.json, #"{"batch":8,"cores":2,"gflop_per_token":0.25,"gflops":256,"model":"/m/a.gguf","#
                       + #""peak_memory_bytes":1000,"seconds":2,"seq_len":128,"tokens":2048,"tokens_per_second":1024}"#)
        report = BenchReport(model: "/m/a.gguf", benchmark: ThroughputBenchmark(batch: 8, seqLen: 128, seconds: 2),
                             measured: .init(tokens: 2048, elapsed: 2, tokensPerSecond: 1024, gflopsPerSecond: 256),
                             gflopPerToken: 0.25, peakMemoryBytes: 1000,
                             against: .init(model: "/m/b.gguf", measured: .init(tokens: 1024, elapsed: 2, tokensPerSecond: 512, gflopsPerSecond: 200)),
                             sgemmGFLOPS: 50, packedMatmulGFLOPS: 60)
        report.cores = 2
        XCTAssertEqual(report.json, #"{"against":{"gflops":200,"model":"/m/b.gguf","tokens_per_second":512},"batch":8,"#
                       + #""ceiling_tokens_per_second":200,"cores":2,"gflop_per_token":0.25,"gflops":256,"model":"/m/a.gguf","#
                       + #""packed_matmul_gflops":60,"peak_memory_bytes":1000,"seconds":2,"seq_len":128,"sgemm_gflops":50,"speedup":2,"tokens":2048,"#
                       + #""tokens_per_second":1024}"#)
        XCTAssertEqual(try JSONDecoder().decode(BenchReport.self, from: Data(report.json.utf8)), report)
    }
}
