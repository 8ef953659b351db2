import Foundation
import Kernels
import XCTest

final class KernelsTests: XCTestCase {
    func testFastExpMatchesLibmToAFewUlps() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88.5 {
            let v = FastExp.exp(SIMD8<Float>((0..<8).map { x + Float($0) * 0.0013 }))
            for i in 0..<8 {
                let exact = Foundation.exp(Double(x + Float(i) * 0.0013))
                worst = max(worst, Float(abs(Double(v[i]) - exact) / exact))
            }
            x += 0.0917
        }
        XCTAssertLessThan(worst, 5e-7, "largest relative error of FastExp")
        XCTAssertEqual(FastExp.exp(0), 1)
        XCTAssertEqual(FastExp.exp(-200), 0)
        XCTAssertEqual(FastExp.exp(100), .infinity)
    }

    func testSoftmaxPrefixMasksTheTail() {
        var row: [Float] = [1, 2, 3, 50, 60]
        row.withUnsafeMutableBufferPointer { RowOps.softmaxPrefix($0.baseAddress!, visible: 3, count: 5) }
        let e = [1.0, 2.0, 3.0].map { Foundation.exp($0) }
        let total = e.reduce(0, +)
        for i in 0..<3 { XCTAssertEqual(Double(row[i]), e[i] / total, accuracy: 1e-6) }
        XCTAssertEqual(row[3], 0)
        XCTAssertEqual(row[4], 0)
    }

    func testMatmulAgreesWithNaiveProductWhenSplitOverCores() {
        // Large enough to be split over rows, and a second shape split over columns.
        for (m, n, k) in [(64, 48, 400), (8, 2048, 96)] {
            let a = (0..<(m * k)).map { Float(($0 * 7919) % 13) - 6 }
            let w = (0..<(n * k)).map { Float(($0 * 104729) % 11) - 5 }
            var c = [Float](repeating: 1, count: m * n)
            a.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { w in
                    c.withUnsafeMutableBufferPointer { c in
                        Matmul.timesTransposed(a.baseAddress!, lda: k, m: m, k: k, w.baseAddress!, ldw: k, n: n,
                                               c.baseAddress!, ldc: n, beta: 1)
                    }
                }
            }
            for i in stride(from: 0, to: m, by: 7) {
                for j in stride(from: 0, to: n, by: 5) {
                    var expected: Float = 1
                    for t in 0..<k { expected += a[i * k + t] * w[j * k + t] }
                    XCTAssertEqual(c[i * n + j], expected, "c[\(i), \(j)] of \(m)x\(n)x\(k)")
                }
            }
        }
    }
}
