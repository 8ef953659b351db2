import Foundation
import Kernels
@testable import Runtime
import XCTest

/// 2-byte weight storage: hand-computed conversions, rounding, and tiled products equal to the
/// Float32 product of the same values.
final class WeightMatrixTests: XCTestCase {
    func testBF16AndF16BitPatternsConvertToTheirHandComputedValues() {
        let bf16 = WeightMatrix(bits: [0x3F80, 0xC000, 0x3F81, 0x0000, 0x8000, 0x7F80], element: .bfloat16, rows: 2, columns: 3)
        XCTAssertEqual(bf16.floats, [1, -2, 1.0078125, 0, -0.0, .infinity])
        let f16 = WeightMatrix(bits: [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0xFC00], element: .float16, rows: 3, columns: 2)
        XCTAssertEqual(f16.floats, [1, -2, 65504, 0x1p-24, 0.333251953125, -.infinity])
    }

    func testBF16RoundsToNearestEven() {
        XCTAssertEqual(WeightMatrix.bitPattern(1.00390625, .bfloat16), 0x3F80)   // halfway, even stays
        XCTAssertEqual(WeightMatrix.bitPattern(1.01171875, .bfloat16), 0x3F82)   // halfway, odd goes up
        XCTAssertEqual(WeightMatrix.bitPattern(1.0040, .bfloat16), 0x3F81)       // above halfway
        var m = WeightMatrix(bits: [0, 0], element: .bfloat16, rows: 1, columns: 2)
        m[1] = -3
        XCTAssertEqual(m.floats, [0, -3])
    }

    /// Several tiles of rows (and an uneven last one) on both cores; accumulation into `c`.
    func testTiledProductEqualsTheFloat32Product() {
        let rows = 1000, columns = 300, m = 5
        let values = (0..<(rows * columns)).map { Float(sin(Double($0) * 0.013)) }
        let bits = values.map { WeightMatrix.bitPattern($0, .bfloat16) }
        let half = WeightMatrix(bits: bits, element: .bfloat16, rows: rows, columns: columns)
        let full = WeightMatrix(half.floats, rows: rows, columns: columns)
        let a = (0..<(m * columns)).map { Float(cos(Double($0) * 0.7)) }
        for beta: Float in [0, 1] {
            var x = [Float](repeating: 0.5, count: m * rows), y = x
            a.withUnsafeBufferPointer { a in
                half.product(a.baseAddress!, m: m, into: &x, ldc: rows, beta: beta)
                full.product(a.baseAddress!, m: m, into: &y, ldc: rows, beta: beta)
            }
            let worst = zip(x, y).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4, "beta \(beta)")
        }
    }

    func testRowAndColumnSelectionAndStackingKeepTheElementType() {
        let m = WeightMatrix(bits: [0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0], element: .bfloat16, rows: 2, columns: 3)
        XCTAssertEqual(m.selectingRows([1]).floats, [4, 5, 6])
        XCTAssertEqual(m.selectingColumns([2, 0]).floats, [3, 1, 6, 4])
        XCTAssertEqual(m.selectingColumns([2, 0]).element, .bfloat16)
        let stacked = WeightMatrix.stacked([m, m.selectingRows([0])])
        XCTAssertEqual(stacked.element, .bfloat16)
        XCTAssertEqual(stacked.floats, [1, 2, 3, 4, 5, 6, 1, 2, 3])
        let mixed = WeightMatrix.stacked([m, WeightMatrix([7, 8, 9], rows: 1, columns: 3)])
        XCTAssertEqual(mixed.element, .float32)
        XCTAssertEqual(mixed.floats, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    // MARK: packed for oneDNN

    private func skipWithoutBFloat16() throws {
        try XCTSkipUnless(ComputePrecision.bf16.isAvailable, "oneDNN has no BF16 matmul on this CPU (no AVX-512)")
    }

    /// A packed matrix holds its elements rounded to BF16, reads them back, and its product is
    /// the Double product of the rounded weights and the rounded activations (Float32 sums).
    func testAPackedMatrixHoldsBFloat16ElementsAndMultipliesRoundedActivations() throws {
        try skipWithoutBFloat16()
        let rows = 96, columns = 160, m = 7
        let values = (0..<(rows * columns)).map { Float(sin(Double($0) * 0.37)) * 0.1 }
        let packed = try WeightMatrix(values, rows: rows, columns: columns).packed(for: .bfloat16)
        XCTAssertEqual(packed.packing, .bfloat16)
        XCTAssertEqual(packed.element, .bfloat16)
        let rounded = values.map { WeightMatrix.float(WeightMatrix.bitPattern($0, .bfloat16), .bfloat16) }
        XCTAssertEqual(packed.floats, rounded)
        XCTAssertEqual(packed[123], rounded[123])
        XCTAssertEqual(packed, WeightMatrix(bits: values.map { WeightMatrix.bitPattern($0, .bfloat16) }, element: .bfloat16, rows: rows, columns: columns))

        let a = (0..<(m * columns)).map { Float(cos(Double($0) * 0.11)) }
        let roundedA = a.map { WeightMatrix.float(WeightMatrix.bitPattern($0, .bfloat16), .bfloat16) }
        for beta: Float in [0, 1] {
            var c = (0..<(m * rows)).map { Float($0 % 7) }
            let start = c
            a.withUnsafeBufferPointer { packed.product($0.baseAddress!, m: m, into: &c, ldc: rows, beta: beta) }
            for i in 0..<m {
                for j in 0..<rows {
                    var exact = Double(beta) * Double(start[i * rows + j]), magnitude = 0.0
                    for p in 0..<columns {
                        exact += Double(roundedA[i * columns + p]) * Double(rounded[j * columns + p])
                        magnitude += abs(Double(roundedA[i * columns + p]) * Double(rounded[j * columns + p]))
                    }
                    XCTAssertEqual(Double(c[i * rows + j]), exact, accuracy: 1e-5 * (magnitude + 1), "beta \(beta) (\(i), \(j))")
                }
            }
        }
    }

    func testWritingAnElementUnpacksAndEmptyMatricesStayUnpacked() throws {
        for operands in [PackedMatmul.Operands.float32, .bfloat16] where PackedMatmul.isAvailable(operands) {
            var packed = try WeightMatrix([1, 2, 3, 4, 5, 6], rows: 2, columns: 3).packed(for: operands)
            XCTAssertEqual(packed.packing, operands)
            packed[4] = -1.5
            XCTAssertNil(packed.packing)
            XCTAssertEqual(packed.floats, [1, 2, 3, 4, -1.5, 6])
            XCTAssertEqual(packed.selectingRows([1]).floats, [4, -1.5, 6])
            let empty = try WeightMatrix([], rows: 64, columns: 0).packed(for: operands)
            XCTAssertNil(empty.packing)
        }
    }

    /// Packed for Float32 products, a matrix keeps its exact elements (and equals its unpacked
    /// self), and its product is the Float32 product up to the order of the sums.
    func testAMatrixPackedForFloat32KeepsItsElementsAndItsProduct() throws {
        try XCTSkipUnless(PackedMatmul.isAvailable(.float32), "oneDNN has no AVX-512 Float32 matmul on this CPU")
        let rows = 200, columns = 96, m = 9
        let values = (0..<(rows * columns)).map { Float(sin(Double($0) * 0.29)) * 0.1 }
        let plain = WeightMatrix(values, rows: rows, columns: columns)
        let packed = try plain.packed(for: .float32)
        XCTAssertEqual(packed.packing, .float32)
        XCTAssertEqual(packed.element, .float32)
        XCTAssertEqual(packed.floats, values)
        XCTAssertEqual(packed[1234], values[1234])
        XCTAssertEqual(packed, plain)
        XCTAssertEqual(packed.selectingColumns([5, 2]), plain.selectingColumns([5, 2]))
        let a = (0..<(m * columns)).map { Float(cos(Double($0) * 0.13)) }
        for beta: Float in [0, 1] {
            var c = (0..<(m * rows)).map { Float($0 % 5) }, reference = c
            a.withUnsafeBufferPointer {
                packed.product($0.baseAddress!, m: m, into: &c, ldc: rows, beta: beta)
                plain.product($0.baseAddress!, m: m, into: &reference, ldc: rows, beta: beta)
            }
            for i in 0..<(m * rows) { XCTAssertEqual(c[i], reference[i], accuracy: 1e-5 * (abs(reference[i]) + 1), "beta \(beta) element \(i)") }
        }
    }
}
