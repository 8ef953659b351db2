import Foundation
import Kernels
import Runtime
import TestSupport
import XCTest

/// The benchmark's bookkeeping (not its speed): models run in turn see the same batches, and the
/// peak-memory reading is this process's own high-water mark.
final class ThroughputBenchmarkTests: XCTestCase {
    func testModelsRunInTurnCountTheSameTokens() throws {
        let loaded = try TinyModel.loaded()
        let ids = loaded.tokenizer.encode("The quick brown fox jumps over the lazy dog. It was not amused by this at all.", parseSpecial: false)
        let windows = [Array(ids.prefix(8)), Array(ids.dropFirst(4).prefix(8))]
        let measured = ThroughputBenchmark(batch: 2, seqLen: 8, seconds: 0).run([loaded.model, loaded.model], windows: windows)
        XCTAssertNil(measured.sgemmGFLOPS, "no ceiling asked for")
        XCTAssertNil(measured.packedGFLOPS)
        let results = measured.results
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(results[0].tokens, 16, "one measured batch of 2 × 8 after the warm-up")
        XCTAssertEqual(results[0].tokens, results[1].tokens)
        XCTAssertTrue(results.allSatisfy { $0.elapsed > 0 && $0.tokensPerSecond > 0 })
        // The same model: the same arithmetic per token.
        XCTAssertEqual(results[0].gflopsPerSecond / results[0].tokensPerSecond, results[1].gflopsPerSecond / results[1].tokensPerSecond,
                       accuracy: 1e-12)
    }

    func testTheCeilingIsMeasuredInTurnWhenAsked() throws {
        let loaded = try TinyModel.loaded()
        let ids = loaded.tokenizer.encode("The quick brown fox jumps over the lazy dog. It was not amused by this at all.", parseSpecial: false)
        let measured = ThroughputBenchmark(batch: 1, seqLen: 8, seconds: 0, measuresCeiling: true)
            .run([loaded.model], windows: [Array(ids.prefix(8))])
        XCTAssertEqual(measured.results.count, 1)
        XCTAssertGreaterThan(try XCTUnwrap(measured.sgemmGFLOPS), 0)
        // The packed matmul's rate beside it, where the CPU has that matmul.
        XCTAssertEqual(measured.packedGFLOPS != nil, PackedMatmul.isAvailable(.float32))
        if let packed = measured.packedGFLOPS { XCTAssertGreaterThan(packed, 0) }
    }

    func testPeakMemoryIsAtLeastTheCurrentResidentSet() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let rss = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kB = try XCTUnwrap(Int(rss.dropFirst("VmRSS:".count).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]))
        XCTAssertGreaterThanOrEqual(ThroughputBenchmark.peakMemoryBytes(), kB * 1024)
    }
}
