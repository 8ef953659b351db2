@testable import Kernels
import XCTest

final class BFloat16MatmulTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(BFloat16Matmul.isAvailable, "oneDNN has no BF16 matmul on this CPU (no AVX-512)")
    }

    /// Deterministic values in [-1, 1).
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    private func bf16(_ x: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { BFloat16Matmul.round(x.baseAddress!, count: x.count, into: $0.baseAddress!) } }
        return out
    }

    private func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    func testRoundingIsToNearestEven() {
        let cases: [(Float, UInt16)] = [
            (1, 0x3F80), (-2, 0xC000), (0, 0x0000),
            (Float(bitPattern: 0x3F80_8000), 0x3F80),   // halfway, even below: down
            (Float(bitPattern: 0x3F81_8000), 0x3F82),   // halfway, odd below: up
            (Float(bitPattern: 0x3F80_8001), 0x3F81),   // above halfway: up
            (Float(bitPattern: 0x3F80_7FFF), 0x3F80),   // below halfway: down
            (.infinity, 0x7F80), (-.infinity, 0xFF80), (.greatestFiniteMagnitude, 0x7F80),
        ]
        let bits = bf16(cases.map(\.0))
        for (i, c) in cases.enumerated() { XCTAssertEqual(bits[i], c.1, "\(c.0)") }
        XCTAssertTrue(float(bf16([.nan])[0]).isNaN)
    }

    /// Against the Float32 product (sgemm) of the same BF16 weights: the only differences are the
    /// activations' rounding to BF16 (relative 2^-9 each) and the order of the Float32 sums.
    func testProductMatchesSgemmWithinTheActivationsRounding() throws {
        for (m, n, k) in [(1, 40, 64), (37, 96, 200), (128, 256, 512)] {
            let a = values(m * k, seed: UInt64(m))
            let wBits = bf16(values(n * k, seed: UInt64(n + k)).map { $0 * 0.05 })
            let w = wBits.map(float)
            let matrix = try BFloat16Matmul(bits: wBits, rows: n, columns: k)
            var c = [Float](repeating: .nan, count: m * n), reference = [Float](repeating: 0, count: m * n)
            try a.withUnsafeBufferPointer { a in
                try c.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: false) }
                w.withUnsafeBufferPointer { w in
                    reference.withUnsafeMutableBufferPointer {
                        Matmul.timesTransposed(a.baseAddress!, lda: k, m: m, k: k, w.baseAddress!, ldw: k, n: n, $0.baseAddress!, ldc: n)
                    }
                }
            }
            // The same product on the rounded activations, in Double: only the summation order differs.
            let rounded = bf16(a).map(float)
            for i in 0..<m {
                for j in 0..<n {
                    var magnitude = 0.0, exact = 0.0
                    for p in 0..<k {
                        magnitude += Double(abs(a[i * k + p] * w[j * k + p]))
                        exact += Double(rounded[i * k + p]) * Double(w[j * k + p])
                    }
                    let got = Double(c[i * n + j])
                    XCTAssertEqual(got, exact, accuracy: 1e-5 * magnitude + 1e-7, "[\(m), \(n), \(k)] (\(i), \(j)) against the rounded activations")
                    XCTAssertEqual(got, Double(reference[i * n + j]), accuracy: 0x1p-8 * magnitude + 1e-6, "[\(m), \(n), \(k)] (\(i), \(j)) against sgemm")
                }
            }
        }
    }

    func testAccumulateAddsToTheOutputAndSameShapedMatricesKeepTheirOwnWeights() throws {
        let (m, n, k) = (5, 48, 96)
        let a = values(m * k, seed: 7)
        let first = bf16(values(n * k, seed: 8)), second = bf16(values(n * k, seed: 9))
        let one = try BFloat16Matmul(bits: first, rows: n, columns: k)
        let two = try BFloat16Matmul(bits: second, rows: n, columns: k)
        var x = [Float](repeating: 0, count: m * n), y = x, sum = values(m * n, seed: 10)
        let start = sum
        try a.withUnsafeBufferPointer { a in
            try x.withUnsafeMutableBufferPointer { try one.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: false) }
            try y.withUnsafeMutableBufferPointer { try two.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: false) }
            try sum.withUnsafeMutableBufferPointer { try one.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: true) }
            try sum.withUnsafeMutableBufferPointer { try two.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: true) }
        }
        XCTAssertNotEqual(x, y)
        for i in 0..<(m * n) { XCTAssertEqual(sum[i], start[i] + x[i] + y[i], accuracy: 1e-4, "element \(i)") }
    }

    func testRowCountsArePaddedToFewPrimitiveShapes() {
        let padded = [1, 2, 3, 5, 17, 32, 33, 64, 65, 1000, 1024, 1025, 2000].map(BFloat16Matmul.paddedRows)
        XCTAssertEqual(padded, [1, 2, 4, 8, 32, 32, 64, 64, 96, 1024, 1024, 1280, 2048])
        XCTAssertEqual(Set((1...1024).map(BFloat16Matmul.paddedRows)).count, 6 + 31)
    }

    func testBitsComeBackAsGivenAndFloatsAreRoundedToNearestEven() throws {
        let (n, k) = (48, 80)
        let bits = bf16(values(n * k, seed: 11))
        XCTAssertEqual(try BFloat16Matmul(bits: bits, rows: n, columns: k).bits(), bits)
        let floats = values(n * k, seed: 12)
        let fromFloats = try floats.withUnsafeBufferPointer { try BFloat16Matmul(values: $0, rows: n, columns: k) }
        XCTAssertEqual(try fromFloats.bits(), bf16(floats))
    }

    /// Padded row counts (m = 3 runs on 4 rows, 40 on 64) give the rows an unpadded call gives.
    func testAPaddedCallGivesTheRowsOfTheWholeCall() throws {
        let (n, k) = (64, 96)
        let matrix = try BFloat16Matmul(bits: bf16(values(n * k, seed: 13)), rows: n, columns: k)
        let a = values(64 * k, seed: 14)
        var whole = [Float](repeating: 0, count: 64 * n)
        try a.withUnsafeBufferPointer { a in
            try whole.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: 64, into: $0.baseAddress!, accumulate: false) }
            for m in [3, 40] {
                var part = [Float](repeating: .nan, count: m * n)
                try part.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: m, into: $0.baseAddress!, accumulate: false) }
                for i in 0..<(m * n) { XCTAssertEqual(part[i], whole[i], accuracy: 1e-5 * (abs(whole[i]) + 1), "m \(m) element \(i)") }
            }
        }
    }
}
