import Foundation
import Kernels
import XCTest

final class KernelsTests: XCTestCase {
    /// exp through `expShifted` (shift 0): whole vectors and a tail, against libm in Double.
    func testExpMatchesLibmToAFewUlps() {
        var worst = 0.0
        var x: Float = -87
        while x < 88.5 {
            let inputs = (0..<21).map { x + Float($0) * 0.0013 }
            var values = inputs
            let total = values.withUnsafeMutableBufferPointer { RowOps.expShifted($0.baseAddress!, count: 21, shift: 0) }
            var exactTotal = 0.0
            for i in 0..<21 {
                let exact = Foundation.exp(Double(inputs[i]))
                exactTotal += exact
                worst = max(worst, abs(Double(values[i]) - exact) / exact)
            }
            XCTAssertEqual(total, exactTotal, accuracy: exactTotal * 1e-6, "sum of exp from \(x)")
            x += 0.0917
        }
        XCTAssertLessThan(worst, 5e-7, "largest relative error of exp")
        var edges: [Float] = [0, -200, 100, -87.5, 88.8] + [Float](repeating: 0, count: 11) + [0, -200, 100]
        _ = edges.withUnsafeMutableBufferPointer { RowOps.expShifted($0.baseAddress!, count: $0.count, shift: 0) }
        for offset in [0, 16] {
            XCTAssertEqual(edges[offset], 1)
            XCTAssertEqual(edges[offset + 1], 0)
            XCTAssertEqual(edges[offset + 2], .infinity)
        }
        XCTAssertEqual(edges[3], 0)
        XCTAssertEqual(edges[4], .infinity)
    }

    /// SwiGLU and RMS norm on rows wider than a vector with a tail, against Double arithmetic.
    func testSwiGLUAndRMSNormAgreeWithDoubleArithmetic() {
        let width = 37, rows = 3
        let gateUp = (0..<(rows * 2 * width)).map { Float(($0 * 7919) % 97) / 8 - 6 }
        var out = [Float](repeating: .nan, count: rows * width)
        gateUp.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { RowOps.swiGLU(g.baseAddress!, into: $0.baseAddress!, rows: rows, width: width) }
        }
        for r in 0..<rows {
            for m in 0..<width {
                let g = Double(gateUp[r * 2 * width + m]), u = Double(gateUp[r * 2 * width + width + m])
                let expected = g / (1 + Foundation.exp(-g)) * u
                XCTAssertEqual(Double(out[r * width + m]), expected, accuracy: 1e-6 * max(1, abs(expected)), "swiGLU[\(r), \(m)]")
            }
        }
        let x = (0..<(rows * width)).map { Float(($0 * 104729) % 89) / 16 - 2.5 }
        let weight = (0..<width).map { 0.5 + Float($0) / 32 }
        var normed = [Float](repeating: .nan, count: rows * width)
        x.withUnsafeBufferPointer { x in
            normed.withUnsafeMutableBufferPointer {
                RowOps.rmsNorm(x.baseAddress!, weight: weight, eps: 1e-5, into: $0.baseAddress!, rows: rows, width: width)
            }
        }
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let squares = row.reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(x.withUnsafeBufferPointer { RowOps.sumOfSquares($0.baseAddress! + r * width, width) }, squares,
                           accuracy: squares * 1e-15)
            let scale = 1 / (squares / Double(width) + 1e-5).squareRoot()
            for i in 0..<width {
                let expected = row[i] * scale * Double(weight[i])
                XCTAssertEqual(Double(normed[r * width + i]), expected, accuracy: 1e-6 * max(1, abs(expected)), "rmsNorm[\(r), \(i)]")
            }
        }
    }

    /// The maximum passes over NaNs, in vectors and in the tail, and is -infinity over nothing.
    func testMaximumPassesOverNaNs() {
        var values = (0..<35).map { Float($0 % 11) - 20 }
        values[3] = .nan
        values[20] = -1.5
        values[33] = .nan
        XCTAssertEqual(values.withUnsafeBufferPointer { RowOps.maximum($0.baseAddress!, count: 35) }, -1.5)
        values[34] = 7
        XCTAssertEqual(values.withUnsafeBufferPointer { RowOps.maximum($0.baseAddress!, count: 35) }, 7)
        XCTAssertEqual(values.withUnsafeBufferPointer { RowOps.maximum($0.baseAddress!, count: 0) }, -.infinity)
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

    /// The forward pass and the evaluators rely on this: an element of a product is the same bits
    /// whatever the number of rows (from 64 on) sharing the call, for a row whose index in the
    /// call keeps its remainder modulo `RowAlignment.period` in a call of a multiple of the
    /// period; and whether the rows are split over the cores or not.
    func testAProductsElementsDoNotDependOnTheRowsSharingTheCallOrTheirSplit() {
        var state: UInt32 = 12345
        func random() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state) >> 8) / Float(1 << 23)
        }
        for (n, k) in [(1536, 576), (576, 1536), (960, 576), (200, 96), (64, 128)] {
            let m = 1024
            let period = RowAlignment.period
            let first = 300 / period * period, count = (64 + period - 1) / period * period
            let a = (0..<(m * k)).map { _ in random() }, w = (0..<(n * k)).map { _ in random() }
            var all = [Float](repeating: 0, count: m * n), few = [Float](repeating: 0, count: count * n)
            var rowsSplit = all, whole = all
            a.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { w in
                    let (a, w) = (a.baseAddress!, w.baseAddress!)
                    all.withUnsafeMutableBufferPointer {
                        Matmul.timesTransposed(a, lda: k, m: m, k: k, w, ldw: k, n: n, $0.baseAddress!, ldc: n)
                    }
                    few.withUnsafeMutableBufferPointer {
                        Matmul.timesTransposed(a + first * k, lda: k, m: count, k: k, w, ldw: k, n: n, $0.baseAddress!, ldc: n)
                    }
                    rowsSplit.withUnsafeMutableBufferPointer {
                        Matmul.general(a, lda: k, transposeA: false, w, ldb: k, transposeB: true, m: m, n: n, k: k,
                                       $0.baseAddress!, ldc: n)
                    }
                    whole.withUnsafeMutableBufferPointer {
                        Matmul.serial(a, lda: k, m: m, k: k, w, ldb: k, n: n, transposeB: true, $0.baseAddress!, ldc: n)
                    }
                }
            }
            XCTAssertEqual(Array(all[(first * n)..<((first + count) * n)]).map(\.bitPattern), few.map(\.bitPattern),
                           "\(m)x\(n)x\(k): rows \(first)..<\(first + count) against the same \(count) rows alone")
            XCTAssertEqual(rowsSplit.map(\.bitPattern), whole.map(\.bitPattern), "\(m)x\(n)x\(k): rows split against one call")
        }
    }

    /// Sequences of 5, 0, 13 and 1 rows of phase 0, at period 12: each starts at a multiple of 12,
    /// and the layout is a multiple of 12.
    func testAlignedRowsPlaceSequencesFromPositionZeroAtMultiplesOfThePeriod() {
        let layout = AlignedRows(lengths: [5, 0, 13, 1], phases: [0, 0, 0, 0], period: 12)
        XCTAssertEqual(layout.packedStarts, [0, 5, 5, 18])
        XCTAssertEqual([layout.alignedStarts[0], layout.alignedStarts[2], layout.alignedStarts[3]], [0, 12, 36])
        XCTAssertEqual(layout.count, 48)
        XCTAssertEqual([0, 4, 5, 17, 18].map { layout.alignedIndex(ofPackedRow: $0) }, [0, 4, 12, 24, 36])
        XCTAssertTrue(AlignedRows(lengths: [3, 4], phases: [0, 9], period: 1).keepsPackedRows)
        XCTAssertEqual(AlignedRows(lengths: [3, 4], phases: [0, 9], period: 1).alignedStarts, [0, 3])
        XCTAssertEqual(AlignedRows(lengths: [3, 4], phases: [0, 9], period: 1).count, 7)
    }

    /// Sequences of 5, 0, 13, 1 and 4 rows of phases 0, 3, 7, 30 and 5, at period 12 (worked by
    /// hand): each sequence starts at an index with its phase's remainder, sequences chained where
    /// the remainders follow on (the 4 rows of phase 5 right after the 5 of phase 0; the 13 of
    /// phase 7 right after the 1 of phase 30), and rows go there and back (added, when
    /// accumulating), the gaps zeroed.
    func testAlignedRowsStartEachSequenceAtItsPhasesRemainder() {
        let layout = AlignedRows(lengths: [5, 0, 13, 1, 4], phases: [0, 3, 7, 30, 5], period: 12)
        XCTAssertEqual(layout.packedStarts, [0, 5, 5, 18, 19])
        XCTAssertEqual([0, 2, 3, 4].map { layout.alignedStarts[$0] }, [0, 19, 18, 5])
        XCTAssertEqual(layout.count, 36)
        XCTAssertEqual([0, 4, 5, 17, 18, 19, 22].map { layout.alignedIndex(ofPackedRow: $0) }, [0, 4, 19, 31, 18, 5, 8])
        let width = 2, packedCount = 23
        let packed = (0..<(packedCount * width)).map { Float($0 + 1) }
        var aligned = [Float](repeating: -1, count: layout.count * width)
        packed.withUnsafeBufferPointer { p in aligned.withUnsafeMutableBufferPointer { layout.scatter(p.baseAddress!, width: width, into: $0.baseAddress!) } }
        for row in 0..<layout.count {
            let packedRow = (0..<packedCount).first { layout.alignedIndex(ofPackedRow: $0) == row }
            XCTAssertEqual(Array(aligned[(row * width)..<((row + 1) * width)]),
                           packedRow.map { Array(packed[($0 * width)..<(($0 + 1) * width)]) } ?? [0, 0], "aligned row \(row)")
        }
        var back = [Float](repeating: 100, count: packedCount * width)
        aligned.withUnsafeBufferPointer { a in back.withUnsafeMutableBufferPointer {
            layout.gather(a.baseAddress!, width: width, into: $0.baseAddress!, ldPacked: width, accumulate: true)
        } }
        XCTAssertEqual(back, packed.map { $0 + 100 })
    }

    /// Every index runs exactly once and its writes are seen by the caller, whichever threads run
    /// it: several threads hand out work at once (one holds the worker pool, the others go to
    /// Dispatch), and every body hands out work of its own from inside a region.
    func testEveryIndexRunsOnceWhoeverHandsItOut() {
        final class Counts: @unchecked Sendable {
            private let lock = NSLock()
            private(set) var counts: [Int: Int] = [:]
            func add(_ key: Int) { lock.withLock { counts[key, default: 0] += 1 } }
        }
        let counts = Counts()
        let callers = 4, rounds = 200, outer = 5, inner = 3
        let written = UnsafeMutablePointer<Int>.allocate(capacity: callers * rounds * outer)
        defer { written.deallocate() }
        written.initialize(repeating: -1, count: callers * rounds * outer)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for round in 0..<rounds {
                let key = caller * 1_000_000 + round * 1000
                Parallel.forEach(outer) { i in
                    counts.add(key + i * 10)
                    Parallel.forEach(inner) { j in counts.add(key + i * 10 + j + 1) }
                    written[(caller * rounds + round) * outer + i] = i
                }
                for i in 0..<outer where written[(caller * rounds + round) * outer + i] != i {
                    XCTFail("caller \(caller), round \(round): index \(i)'s write not seen after the region")
                }
            }
        }
        XCTAssertEqual(counts.counts.count, callers * rounds * outer * (1 + inner))
        XCTAssertEqual(Set(counts.counts.values), [1])
    }

    /// `nice bip sweep` must lower all of its work, also what runs on Dispatch's worker threads:
    /// the work runs at the caller's nice value or the main thread's, whichever is lower priority.
    func testWorkersTakeTheCallersNiceValue() throws {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        final class Seen: @unchecked Sendable {
            private let lock = NSLock()
            private(set) var values: [Int32] = []
            func add(_ value: Int32) { lock.withLock { values.append(value) } }
        }
        let seen = Seen()
        // Dispatch's worker threads, started from this thread at the test process's own priority.
        Parallel.forEach(16) { _ in usleep(2000) }
        func handOut(callerNice: Int32) {
            let done = DispatchSemaphore(value: 0)
            let caller = Thread {
                _ = setpriority(which, 0, callerNice)   // this thread only
                Parallel.forEach(8) { _ in seen.add(getpriority(which, 0)) }
                Parallel.forRanges(64) { _ in seen.add(getpriority(which, 0)) }
                done.signal()
            }
            caller.start()
            done.wait()
        }
        let main = getpriority(which, id_t(getpid()))
        handOut(callerNice: 7)
        XCTAssertEqual(seen.values.count, 8 + min(Parallel.cores, 64))
        XCTAssertEqual(Set(seen.values), [7], "a niced caller's work")
        // A process started with `nice` (its main thread niced), the work handed out by another thread.
        guard setpriority(which, id_t(getpid()), 9) == 0 else { throw XCTSkip("cannot set the main thread's nice value") }
        handOut(callerNice: main)
        _ = setpriority(which, id_t(getpid()), main)   // back (lowering needs root, as in CI)
        XCTAssertEqual(Set(seen.values.suffix(8 + min(Parallel.cores, 64))), [9], "a niced process's work")
        // The test process's own work: back to its nice value (lowering needs root, as in CI).
        Parallel.forEach(8) { _ in }
    }
}
