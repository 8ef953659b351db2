import COneDNN
import Foundation

/// A weight matrix `[rows, columns]` (the `[out, in]` layout of every projection) reordered once
/// into oneDNN's blocked layout, for products `c[m, rows] = a[m, columns] · Wᵀ` (`+ c` when
/// accumulating) through oneDNN's AVX-512 matmul (`brg:avx512_core`), which reads the weights as
/// they lie instead of repacking them on every call as sgemm does.
///
/// The operands are Float32 (the `fp32` path: same arithmetic as sgemm, another summation order)
/// or BF16 (the `--compute bf16` path: the activations are rounded to BF16, nearest even, at each
/// call; the products are summed and written in Float32).
///
/// The weight's rows are split into one part per core (at multiples of 16; not when the caller
/// spreads its own products over the cores), each packed on its own and multiplied on one thread
/// of `Parallel` with oneDNN held to that thread, so no OpenMP pool runs beside bip's threads. An
/// output element comes from the same kernel, summing in the same order, whatever the number of
/// activation rows in the call (`KernelsTests` check it).
public final class PackedMatmul: @unchecked Sendable {
    /// The type of both operands.
    public enum Operands: Sendable {
        case float32, bfloat16

        var type: dnnl_data_type_t { self == .float32 ? dnnl_f32 : dnnl_bf16 }
        var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    /// The weight rows `range`, in the primitive's layout (immutable after init, so calls may run
    /// concurrently).
    private struct Part {
        let range: Range<Int>
        let weights: UnsafeMutableRawPointer
        let layout: dnnl_memory_desc_t
    }

    public let rows: Int
    public let columns: Int
    public let operands: Operands
    private let parts: [Part]

    private init(rows: Int, columns: Int, operands: Operands, parts: [Part]) {
        (self.rows, self.columns, self.operands, self.parts) = (rows, columns, operands, parts)
    }

    deinit { for part in parts { part.weights.deallocate() } }

    /// Reorders the row-major `[rows, columns]` matrix at `source` (elements of `operands`' type)
    /// into oneDNN's layout, a part per core unless `splitOverCores` is false; `source` is not kept.
    private static func pack(_ source: UnsafeRawPointer, operands: Operands, rows: Int, columns: Int, splitOverCores: Bool) throws -> [Part] {
        precondition(rows > 0 && columns > 0, "an empty matrix is not packed")
        let count = splitOverCores && rows >= 64 * Parallel.cores ? Parallel.cores : 1
        var parts: [Part] = []
        do {
            for p in 0..<count {
                let range = split(p, of: count, rows)..<split(p + 1, of: count, rows)
                var layout = try OneDNN.weightsLayout(n: range.count, k: columns, operands.type)
                let weights = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(&layout), alignment: 64)
                parts.append(Part(range: range, weights: weights, layout: layout))
                // The stored [rows, columns] matrix is the logical [k, n] operand transposed.
                let plain = try OneDNN.descriptor(rows: columns, columns: range.count, operands.type, transposed: true)
                try reorder(plain, UnsafeMutableRawPointer(mutating: source + range.lowerBound * columns * operands.byteCount),
                            to: layout, weights)
            }
        } catch {
            for part in parts { part.weights.deallocate() }
            throw error
        }
        return parts
    }

    /// Float32 weights, packed for Float32 products; with `splitOverCores` false, each product
    /// runs on its caller's thread alone.
    public convenience init(values: UnsafeBufferPointer<Float>, rows: Int, columns: Int, splitOverCores: Bool = true) throws {
        precondition(values.count == rows * columns, "\(values.count) values are not [\(rows), \(columns)]")
        let parts = try Self.pack(UnsafeRawPointer(values.baseAddress!), operands: .float32, rows: rows, columns: columns, splitOverCores: splitOverCores)
        self.init(rows: rows, columns: columns, operands: .float32, parts: parts)
    }

    /// BF16 weights (bit patterns), packed for BF16 products.
    public convenience init(bits: [UInt16], rows: Int, columns: Int) throws {
        precondition(bits.count == rows * columns, "\(bits.count) values are not [\(rows), \(columns)]")
        let parts = try bits.withUnsafeBytes {
            try Self.pack($0.baseAddress!, operands: .bfloat16, rows: rows, columns: columns, splitOverCores: true)
        }
        self.init(rows: rows, columns: columns, operands: .bfloat16, parts: parts)
    }

    /// Float32 weights rounded to BF16 (nearest even), packed for BF16 products.
    public convenience init(roundingToBFloat16 values: UnsafeBufferPointer<Float>, rows: Int, columns: Int) throws {
        precondition(values.count == rows * columns, "\(values.count) values are not [\(rows), \(columns)]")
        var bits = [UInt16](repeating: 0, count: values.count)
        bits.withUnsafeMutableBufferPointer { Self.round(values.baseAddress!, count: values.count, into: $0.baseAddress!) }
        try self.init(bits: bits, rows: rows, columns: columns)
    }

    /// Whether oneDNN has its AVX-512 matmul for `operands` on this CPU.
    public static func isAvailable(_ operands: Operands) -> Bool {
        operands == .float32 ? float32Available : bfloat16Available
    }

    private static let float32Available = OneDNN.hasBlockedMatmul(dnnl_f32)
    private static let bfloat16Available = OneDNN.hasBlockedMatmul(dnnl_bf16)

    /// Bytes the reordered weights take.
    public var byteCount: Int {
        parts.reduce(0) { total, part in
            var layout = part.layout
            return total + dnnl_memory_desc_get_size(&layout)
        }
    }

    /// The weights, row-major `[rows, columns]`, as they were packed (the reorder back from the
    /// blocked layout is exact): Float32 values or BF16 bit patterns, as `operands` says.
    public func unpacked<Element>(as: Element.Type) throws -> [Element] {
        precondition(MemoryLayout<Element>.size == operands.byteCount, "\(Element.self) is not the operands' type")
        return try [Element](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
            for part in parts {
                let plain = try OneDNN.descriptor(rows: columns, columns: part.range.count, operands.type, transposed: true)
                try Self.reorder(part.layout, part.weights, to: plain, UnsafeMutableRawPointer(buffer.baseAddress! + part.range.lowerBound * columns))
            }
            initialized = rows * columns
        }
    }

    /// `c[m, rows] = a[m, columns] · Wᵀ` (row stride `ldc`), plus `c`'s previous contents when
    /// `accumulate`; `a`'s rows are contiguous. Each part runs on `paddedRows(m)` rows (zero rows
    /// added, their outputs dropped), so that a few primitives serve every row count.
    public func product(_ a: UnsafePointer<Float>, m: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) throws {
        guard m > 0 else { return }
        let padded = Self.paddedRows(m)
        // The activations as the primitive takes them: rounded to BF16, or padded with zero rows.
        var source: UnsafeMutableRawPointer?
        if operands == .bfloat16 || padded != m {
            source = UnsafeMutableRawPointer.allocate(byteCount: padded * columns * operands.byteCount, alignment: 64)
            if operands == .bfloat16 {
                let rounded = source!.bindMemory(to: UInt16.self, capacity: padded * columns)
                Self.round(a, count: m * columns, into: rounded)
                (rounded + m * columns).initialize(repeating: 0, count: (padded - m) * columns)
            } else {
                let copy = source!.bindMemory(to: Float.self, capacity: padded * columns)
                copy.initialize(from: a, count: m * columns)
                (copy + m * columns).initialize(repeating: 0, count: (padded - m) * columns)
            }
        }
        defer { source?.deallocate() }
        let input = source.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(a)
        var failure: Error?
        let lock = NSLock()
        Parallel.forEach(parts.count) { p in
            do {
                try self.run(parts[p], input, padded: padded, m: m, into: c, ldc: ldc, accumulate: accumulate)
            } catch {
                lock.withLock { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// One part's product on the calling thread: straight into `c` when `c` is exactly the
    /// part's output (one part, `ldc` its width, no rows padded, nothing to add to), else into a
    /// buffer of its own whose first `m` rows are then written or added to the part's columns.
    /// (oneDNN 2.6 runs a product into rows wider than its own through its reference matmul,
    /// slowly and summing in another order, so the parts of a split weight cannot write to `c`.)
    private func run(_ part: Part, _ input: UnsafeRawPointer, padded: Int, m: Int, into c: UnsafeMutablePointer<Float>,
                     ldc: Int, accumulate: Bool) throws {
        OneDNN.holdToCallingThread()
        let n = part.range.count, direct = padded == m && ldc == n && !accumulate
        let matmul = try OneDNN.matmul(m: padded, n: n, k: columns, operands.type)
        let engine = try OneDNN.engine()
        let buffer = direct ? nil : UnsafeMutablePointer<Float>.allocate(capacity: padded * n)
        defer { buffer?.deallocate() }
        var src = try OneDNN.descriptor(rows: padded, columns: columns, operands.type)
        var dst = try OneDNN.descriptor(rows: padded, columns: n, dnnl_f32)
        var layout = part.layout
        var scratchpad = matmul.scratchpad
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&scratchpad)), alignment: 64)
        defer { scratch.deallocate() }
        var srcMemory: dnnl_memory_t?, weightsMemory: dnnl_memory_t?, dstMemory: dnnl_memory_t?, scratchMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&srcMemory, &src, engine, UnsafeMutableRawPointer(mutating: input)), "dnnl_memory_create")
        defer { dnnl_memory_destroy(srcMemory) }
        try OneDNN.check(dnnl_memory_create(&weightsMemory, &layout, engine, part.weights), "dnnl_memory_create")
        defer { dnnl_memory_destroy(weightsMemory) }
        try OneDNN.check(dnnl_memory_create(&dstMemory, &dst, engine, buffer ?? c), "dnnl_memory_create")
        defer { dnnl_memory_destroy(dstMemory) }
        try OneDNN.check(dnnl_memory_create(&scratchMemory, &scratchpad, engine, scratch), "dnnl_memory_create")
        defer { dnnl_memory_destroy(scratchMemory) }
        try Self.run(matmul.primitive, engine, [(Int32(DNNL_ARG_SRC), srcMemory!), (Int32(DNNL_ARG_WEIGHTS), weightsMemory!),
                                                (Int32(DNNL_ARG_DST), dstMemory!), (Int32(DNNL_ARG_SCRATCHPAD), scratchMemory!)])
        guard let buffer else { return }
        for i in 0..<m {
            let row = c + i * ldc + part.range.lowerBound, result = buffer + i * n
            if accumulate {
                for j in 0..<n { row[j] += result[j] }
            } else {
                row.update(from: result, count: n)
            }
        }
    }

    /// Where part `p` of `parts` starts among `n` rows: on a multiple of 16 (the width of the
    /// kernel's register tile).
    static func split(_ p: Int, of parts: Int, _ n: Int) -> Int {
        p == parts ? n : (p * n / parts) & ~15
    }

    /// The row count a product of `m` rows runs on: the next power of two up to 32, then the next
    /// multiple of 32 up to 1024, then of 256 (at most 6 + 31 primitives per shape up to 1024 rows).
    static func paddedRows(_ m: Int) -> Int {
        if m <= 32 { return 1 << (Int.bitWidth - (m - 1).leadingZeroBitCount) }
        return m <= 1024 ? (m + 31) & ~31 : (m + 255) & ~255
    }

    /// Float32 to BF16 bit patterns, rounded to nearest even; NaN stays NaN.
    public static func round(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<UInt16>) {
        for i in 0..<count {
            let u = x[i].bitPattern
            let rounded = UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
            out[i] = u & 0x7FFF_FFFF > 0x7F80_0000 ? UInt16(truncatingIfNeeded: u >> 16) | 0x40 : rounded
        }
    }

    /// Copies the matrix at `source` (laid out as `from`) to `destination` (laid out as `to`).
    private static func reorder(_ from: dnnl_memory_desc_t, _ source: UnsafeMutableRawPointer,
                                to: dnnl_memory_desc_t, _ destination: UnsafeMutableRawPointer) throws {
        OneDNN.holdToCallingThread()
        let engine = try OneDNN.engine()
        var from = from, to = to
        var fromMemory: dnnl_memory_t?, toMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&fromMemory, &from, engine, source), "dnnl_memory_create")
        defer { dnnl_memory_destroy(fromMemory) }
        try OneDNN.check(dnnl_memory_create(&toMemory, &to, engine, destination), "dnnl_memory_create")
        defer { dnnl_memory_destroy(toMemory) }
        var pd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil), "dnnl_reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&primitive, pd), "dnnl_primitive_create")
        defer { dnnl_primitive_destroy(primitive) }
        try run(primitive!, engine, [(Int32(DNNL_ARG_FROM), fromMemory!), (Int32(DNNL_ARG_TO), toMemory!)])
    }

    /// Runs `primitive` on a fresh stream and waits for it.
    private static func run(_ primitive: dnnl_primitive_t, _ engine: dnnl_engine_t, _ arguments: [(Int32, dnnl_memory_t)]) throws {
        var stream: dnnl_stream_t?
        try OneDNN.check(dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)), "dnnl_stream_create")
        defer { dnnl_stream_destroy(stream) }
        let args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        try OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(args.count), args), "dnnl_primitive_execute")
        try OneDNN.check(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }
}
