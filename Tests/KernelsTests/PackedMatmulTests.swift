@testable import Kernels
import XCTest

/// oneDNN's matmul with weights packed once: Float32 products equal sgemm's up to the order of
/// the sums, and an element's bits do not depend on the rows that share the call; BF16 products
/// differ from them by the activations' rounding.
final class PackedMatmulTests: XCTestCase {
    private func skipWithout(_ operands: PackedMatmul.Operands) throws {
        try XCTSkipUnless(PackedMatmul.isAvailable(operands), "oneDNN has no AVX-512 \(operands) matmul on this CPU")
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
        x.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { PackedMatmul.round(x.baseAddress!, count: x.count, into: $0.baseAddress!) } }
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
        try skipWithout(.bfloat16)
        for (m, n, k) in [(1, 40, 64), (37, 96, 200), (128, 256, 512)] {
            let a = values(m * k, seed: UInt64(m))
            let wBits = bf16(values(n * k, seed: UInt64(n + k)).map { $0 * 0.05 })
            let w = wBits.map(float)
            let matrix = try PackedMatmul(bits: wBits, rows: n, columns: k)
            var c = [Float](repeating: .nan, count: m * n), reference = [Float](repeating: 0, count: m * n)
            try a.withUnsafeBufferPointer { a in
                try c.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: false) }
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
        for operands in [PackedMatmul.Operands.float32, .bfloat16] where PackedMatmul.isAvailable(operands) {
            // 160 rows: split over the cores, as the model's projections are.
            let (m, n, k) = (5, 160, 96)
            let a = values(m * k, seed: 7)
            let first = values(n * k, seed: 8), second = values(n * k, seed: 9)
            func packed(_ w: [Float]) throws -> PackedMatmul {
                try w.withUnsafeBufferPointer {
                    operands == .float32 ? try PackedMatmul(values: $0, rows: n, columns: k) : try PackedMatmul(roundingToBFloat16: $0, rows: n, columns: k)
                }
            }
            let one = try packed(first), two = try packed(second)
            var x = [Float](repeating: 0, count: m * n), y = x, sum = values(m * n, seed: 10)
            let start = sum
            try a.withUnsafeBufferPointer { a in
                try x.withUnsafeMutableBufferPointer { try one.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: false) }
                try y.withUnsafeMutableBufferPointer { try two.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: false) }
                try sum.withUnsafeMutableBufferPointer { try one.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: true) }
                try sum.withUnsafeMutableBufferPointer { try two.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: true) }
            }
            XCTAssertNotEqual(x, y)
            // Accumulating adds the product to what is there: exactly the two roundings of (c + x) + y.
            for i in 0..<(m * n) { XCTAssertEqual(sum[i], (start[i] + x[i]) + y[i], "\(operands) element \(i)") }
        }
    }

    func testRowCountsArePaddedToFewPrimitiveShapes() {
        let padded = [1, 2, 3, 5, 17, 32, 33, 64, 65, 1000, 1024, 1025, 2000].map(PackedMatmul.paddedRows)
        XCTAssertEqual(padded, [1, 2, 4, 8, 32, 32, 64, 64, 96, 1024, 1024, 1280, 2048])
        XCTAssertEqual(Set((1...1024).map(PackedMatmul.paddedRows)).count, 6 + 31)
    }

    func testBitsComeBackAsGivenAndFloatsAreRoundedToNearestEven() throws {
        try skipWithout(.bfloat16)
        for n in [48, 200] {
            let k = 80
            let bits = bf16(values(n * k, seed: 11))
            XCTAssertEqual(try PackedMatmul(bits: bits, rows: n, columns: k).unpacked(as: UInt16.self), bits)
            let floats = values(n * k, seed: 12)
            let fromFloats = try floats.withUnsafeBufferPointer { try PackedMatmul(roundingToBFloat16: $0, rows: n, columns: k) }
            XCTAssertEqual(try fromFloats.unpacked(as: UInt16.self), bf16(floats))
        }
    }

    func testFloat32ValuesComeBackAsGiven() throws {
        try skipWithout(.float32)
        for n in [48, 200] {
            let k = 80
            let floats = values(n * k, seed: 15)
            let packed = try floats.withUnsafeBufferPointer { try PackedMatmul(values: $0, rows: n, columns: k) }
            XCTAssertEqual(try packed.unpacked(as: Float.self), floats)
        }
    }

    /// Float32 products against the Double product: sgemm's arithmetic, in another summation
    /// order. Into a wider output (`ldc` > rows), the other columns untouched.
    func testFloat32ProductIsTheProductUpToTheOrderOfTheSums() throws {
        try skipWithout(.float32)
        for (m, n, k) in [(1, 40, 64), (37, 160, 200), (128, 576, 576)] {
            let a = values(m * k, seed: UInt64(m + 100)), w = values(n * k, seed: UInt64(n + k + 100)).map { $0 * 0.05 }
            let packed = try w.withUnsafeBufferPointer { try PackedMatmul(values: $0, rows: n, columns: k) }
            let ldc = n + 3
            var c = [Float](repeating: .nan, count: m * ldc)
            try a.withUnsafeBufferPointer { a in
                try c.withUnsafeMutableBufferPointer { try packed.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: ldc, accumulate: false) }
            }
            for i in 0..<m {
                for j in 0..<n {
                    var magnitude = 0.0, exact = 0.0
                    for p in 0..<k {
                        exact += Double(a[i * k + p]) * Double(w[j * k + p])
                        magnitude += Double(abs(a[i * k + p] * w[j * k + p]))
                    }
                    // Float32 sums of k terms: within k ulps of the magnitude.
                    XCTAssertEqual(Double(c[i * ldc + j]), exact, accuracy: Double(k) * 0x1p-24 * magnitude, "[\(m), \(n), \(k)] (\(i), \(j))")
                }
                for j in n..<ldc { XCTAssertTrue(c[i * ldc + j].isNaN, "column \(j) outside the product was written") }
            }
        }
    }

    /// The evaluators' invariance: on the model's projection shapes, an output element has the
    /// same bits whatever the number of rows in the call (padded or not), so that a sharded
    /// evaluation equals the whole one.
    func testAnElementIsTheSameBitsWhateverRowsShareTheCall() throws {
        try skipWithout(.float32)
        // The projections' shapes, split over the cores, and the LM head's tiles (whole and the
        // shorter last one of a vocabulary such as Qwen2.5's), each on one thread.
        let shapes = [(576, 576, true), (192, 576, true), (1536, 576, true), (576, 1536, true), (64, 96, true),
                      (2048, 576, false), (384, 896, false)]
        for (n, k, split) in shapes {
            let w = values(n * k, seed: UInt64(n * 7 + k)).map { $0 * 0.05 }
            let packed = try w.withUnsafeBufferPointer { try PackedMatmul(values: $0, rows: n, columns: k, splitOverCores: split) }
            let a = values(1000 * k, seed: UInt64(k))
            func product(_ m: Int) throws -> [Float] {
                var c = [Float](repeating: 0, count: m * n)
                try a.withUnsafeBufferPointer { a in
                    try c.withUnsafeMutableBufferPointer { try packed.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: false) }
                }
                return c
            }
            let whole = try product(1000)
            for m in [1, 3, 40, 64, 127, 128, 513] {
                XCTAssertEqual(try product(m), Array(whole[0..<(m * n)]), "[\(n), \(k)] with \(m) rows")
            }
        }
    }

    /// Padded row counts (m = 3 runs on 4 rows, 40 on 64) give the rows an unpadded call gives.
    func testAPaddedCallGivesTheRowsOfTheWholeCall() throws {
        try skipWithout(.bfloat16)
        let (n, k) = (64, 96)
        let matrix = try PackedMatmul(bits: bf16(values(n * k, seed: 13)), rows: n, columns: k)
        let a = values(64 * k, seed: 14)
        var whole = [Float](repeating: 0, count: 64 * n)
        try a.withUnsafeBufferPointer { a in
            try whole.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: 64, into: $0.baseAddress!, ldc: n, accumulate: false) }
            for m in [3, 40] {
                var part = [Float](repeating: .nan, count: m * n)
                try part.withUnsafeMutableBufferPointer { try matrix.product(a.baseAddress!, m: m, into: $0.baseAddress!, ldc: n, accumulate: false) }
                for i in 0..<(m * n) { XCTAssertEqual(part[i], whole[i], accuracy: 1e-5 * (abs(whole[i]) + 1), "m \(m) element \(i)") }
            }
        }
    }
}
