import COpenBLAS

/// Where the rows of a product sit in its sgemm call, so that a row's result does not depend on
/// the rows that share the call.
///
/// A product's row (an activation row: one token) is computed by a kernel path that depends on
/// its index in the call: OpenBLAS's Haswell and Zen sgemm kernels (Zen 1 to Zen 3) compute a row
/// by one of several paths chosen by its index modulo 12, and the last rows of a call (the
/// remainder) by others, each summing in its own order; its SkylakeX and Cooperlake kernels (Zen
/// 4) give a row the same bits wherever it sits once a call has a few tens of rows. So a token's
/// logits could change in the last bits with the documents batched beside it. `period` is the
/// smallest row period that makes rows independent on this CPU (measured once, by products of
/// the same rows at several aligned offsets); `AlignedRows` places each sequence of a batch at an
/// index with a remainder that depends on the sequence alone and pads the call to a multiple of it.
public enum RowAlignment {
    /// The smallest period (1 where rows are independent wherever they sit) such that a row's
    /// result is the same bits whenever its index in the call has the same remainder and the
    /// call's row count is a multiple of the period (at least 64 rows).
    public static let period: Int = measure()

    /// The periods tried, smallest first; the last one is taken if none is found.
    static let candidates = [1, 2, 4, 6, 8, 12, 16, 24, 48]

    /// Tries each candidate period on a product of 480 rows against products of some of the same
    /// rows at aligned offsets and aligned row counts.
    static func measure() -> Int {
        _ = Matmul.singleThreadedBLAS
        let rows = 480, k = 96, n = 160
        var state: UInt32 = 2_463_534_242
        func random() -> Float {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return Float(Int32(bitPattern: state) >> 8) / Float(1 << 23)
        }
        let a = (0..<(rows * k)).map { _ in random() }, w = (0..<(n * k)).map { _ in random() }
        var whole = [Float](repeating: 0, count: rows * n), part = whole
        func product(_ first: Int, _ m: Int, into c: UnsafeMutablePointer<Float>) {
            a.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { w in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                                1, a.baseAddress! + first * k, Int32(k), w.baseAddress!, Int32(k), 0, c, Int32(n))
                }
            }
        }
        whole.withUnsafeMutableBufferPointer { product(0, rows, into: $0.baseAddress!) }
        for period in candidates {
            let m = (64 + period - 1) / period * period
            let agrees = [1, 3, 7].allSatisfy { multiple -> Bool in
                let first = multiple * period
                guard first + m + period <= rows else { return true }
                return [m, m + period].allSatisfy { count in
                    part.withUnsafeMutableBufferPointer { product(first, count, into: $0.baseAddress!) }
                    return (0..<(count * n)).allSatisfy { part[$0].bitPattern == whole[first * n + $0].bitPattern }
                }
            }
            if agrees { return period }
        }
        return candidates.last!
    }
}

/// The rows of a batch of sequences laid out for a product: each sequence's rows at consecutive
/// indices from one whose remainder modulo `RowAlignment.period` is the sequence's phase, zero
/// rows in the gaps, and the whole a multiple of the period, so that each row's result depends
/// only on the row and its index in its sequence plus the phase, whatever is batched with it. The
/// forward pass gives a sequence the phase of its first position plus a hash of its length, so
/// that sequences start at varied remainders and fill one another's gaps.
///
/// Sequences are placed one after another in an order that keeps the gaps short: after each, the
/// next is the first not yet placed whose phase has the remainder the end has, or failing that the
/// one whose remainder comes soonest after it.
public struct AlignedRows: Sendable, Equatable {
    /// Each sequence's first row, packed (as the caller holds them) and aligned.
    public let packedStarts: [Int]
    public let alignedStarts: [Int]
    /// Rows of each sequence.
    public let lengths: [Int]
    /// Rows of the aligned layout, gaps and padding included.
    public let count: Int
    public let period: Int
    /// The sequences with rows, in the order of their aligned starts.
    private let placementOrder: [Int]

    /// The layout of sequences of `lengths` rows, packed one after another, each sequence's first
    /// row at an index congruent to its entry of `phases` modulo the period.
    public init(lengths: [Int], phases: [Int], period: Int = RowAlignment.period) {
        precondition(period >= 1 && lengths.count == phases.count
                     && lengths.allSatisfy { $0 >= 0 } && phases.allSatisfy { $0 >= 0 })
        var packedStarts: [Int] = [], packed = 0
        for length in lengths {
            packedStarts.append(packed)
            packed += length
        }
        // The sequences with rows, queued by their phase's remainder.
        var queues = [[Int]](repeating: [], count: period), heads = [Int](repeating: 0, count: period)
        for (i, length) in lengths.enumerated() where length > 0 { queues[phases[i] % period].append(i) }
        var alignedStarts = [Int](repeating: 0, count: lengths.count), order: [Int] = [], end = 0
        for _ in 0..<queues.reduce(0, { $0 + $1.count }) {
            var gap = 0
            while heads[(end + gap) % period] == queues[(end + gap) % period].count { gap += 1 }
            let remainder = (end + gap) % period, i = queues[remainder][heads[remainder]]
            heads[remainder] += 1
            alignedStarts[i] = end + gap
            order.append(i)
            end += gap + lengths[i]
        }
        (self.packedStarts, self.alignedStarts, self.lengths, self.period) = (packedStarts, alignedStarts, lengths, period)
        count = (end + period - 1) / period * period
        placementOrder = order
    }

    /// Whether the aligned layout is the packed one (period 1), so that nothing needs moving.
    public var keepsPackedRows: Bool { period == 1 }

    /// Rows in the packed layout.
    public var packedCount: Int { (packedStarts.last ?? 0) + (lengths.last ?? 0) }

    /// The aligned index of packed row `row`.
    public func alignedIndex(ofPackedRow row: Int) -> Int {
        let sequence = sequenceIndex(ofPackedRow: row)
        return alignedStarts[sequence] + row - packedStarts[sequence]
    }

    /// The sequence that holds packed row `row`.
    private func sequenceIndex(ofPackedRow row: Int) -> Int {
        var lower = 0, upper = packedStarts.count - 1
        precondition(upper >= 0 && row >= 0 && row < packedCount, "row \(row) outside the layout")
        while lower < upper {   // the last sequence starting at or before `row`
            let middle = (lower + upper + 1) / 2
            if packedStarts[middle] <= row { lower = middle } else { upper = middle - 1 }
        }
        while row >= packedStarts[lower] + lengths[lower] { lower += 1 }
        return lower
    }

    /// Copies `packed` rows (`width` values each) to their aligned places in `aligned`, zeroing
    /// the rows between; the rows are shared out over the cores.
    public func scatter(_ packed: UnsafePointer<Float>, width: Int, into aligned: UnsafeMutablePointer<Float>) {
        var end = 0
        for i in placementOrder.map(Optional.some) + [nil] {
            let next = i.map { alignedStarts[$0] } ?? count
            (aligned + end * width).update(repeating: 0, count: (next - end) * width)
            if let i { end = alignedStarts[i] + lengths[i] }
        }
        forEachRow { packedRow, alignedRow in
            (aligned + alignedRow * width).update(from: packed + packedRow * width, count: width)
        }
    }

    /// Writes the aligned rows (`width` values each) back to their packed places, rows `ldPacked`
    /// apart, or adds them there when `accumulate`; the rows are shared out over the cores.
    public func gather(_ aligned: UnsafePointer<Float>, width: Int, into packed: UnsafeMutablePointer<Float>, ldPacked: Int,
                       accumulate: Bool) {
        forEachRow { packedRow, alignedRow in
            let source = aligned + alignedRow * width, target = packed + packedRow * ldPacked
            if accumulate {
                for j in 0..<width { target[j] += source[j] }
            } else {
                target.update(from: source, count: width)
            }
        }
    }

    /// Calls `body(packed row, aligned row)` for every row, ranges of rows on each core.
    private func forEachRow(_ body: (Int, Int) -> Void) {
        Parallel.forRanges(packedCount, minimumPerRange: 32) { rows in
            guard let first = rows.first else { return }
            var sequence = sequenceIndex(ofPackedRow: first)
            for row in rows {
                while row >= packedStarts[sequence] + lengths[sequence] { sequence += 1 }
                body(row, alignedStarts[sequence] + row - packedStarts[sequence])
            }
        }
    }
}
