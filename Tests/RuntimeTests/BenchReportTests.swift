import Foundation
import Runtime
import XCTest

/// `bip bench --json`'s figures: the keys it has always printed, and read back as written.
final class BenchReportTests: XCTestCase {
    func testKeysAndRoundTrip() throws {
        var report = BenchReport(model: "/m/a.gguf", seqLen: 128, batch: 8, tokens: 2048, seconds: 2, tokensPerSecond: 1024,
                                 gflopPerToken: 0.25, gflops: 256, peakMemoryBytes: 1000, cores: 2)
        XCTAssertEqual(report.json, #"{"batch":8,"cores":2,"gflop_per_token":0.25,"gflops":256,"model":"/m/a.gguf","#
                       + #""peak_memory_bytes":1000,"seconds":2,"seq_len":128,"tokens":2048,"tokens_per_second":1024}"#)
        report.against = .init(model: "/m/b.gguf", tokensPerSecond: 512, gflops: 200)
        report.speedup = 2
        report.sgemmGFLOPS = 50
        report.ceilingTokensPerSecond = 200
        XCTAssertEqual(report.json, #"{"against":{"gflops":200,"model":"/m/b.gguf","tokens_per_second":512},"batch":8,"#
                       + #""ceiling_tokens_per_second":200,"cores":2,"gflop_per_token":0.25,"gflops":256,"model":"/m/a.gguf","#
                       + #""peak_memory_bytes":1000,"seconds":2,"seq_len":128,"sgemm_gflops":50,"speedup":2,"tokens":2048,"#
                       + #""tokens_per_second":1024}"#)
        XCTAssertEqual(try JSONDecoder().decode(BenchReport.self, from: Data(report.json.utf8)), report)
    }
}
