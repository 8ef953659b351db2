import COneDNN

/// A weight matrix `[rows, columns]` (the `[out, in]` layout of every projection) held in BF16,
/// reordered once into oneDNN's blocked layout, for products `c[m, rows] = a[m, columns] · Wᵀ`
/// (`+ c` when accumulating) through oneDNN's AVX-512 BF16 matmul: the activations are rounded to
/// BF16 (nearest even) at each call, the products are summed and written in Float32. The
/// `--compute bf16` path; its results differ from the Float32 path's by the activations' rounding.
public final class BFloat16Matmul: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// The weights in the primitive's layout (immutable after init, so calls may run concurrently).
    private let weights: UnsafeMutableRawPointer
    private let weightsDescriptor: dnnl_memory_desc_t

    /// Reorders `bits` (BF16 bit patterns of a row-major `[rows, columns]` matrix) into oneDNN's
    /// layout; `bits` is not kept.
    public init(bits: [UInt16], rows: Int, columns: Int) throws {
        precondition(rows > 0 && columns > 0 && bits.count == rows * columns, "\(bits.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        var layout = try OneDNN.weightsLayout(n: rows, k: columns)
        weightsDescriptor = layout
        let reordered = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(&layout), alignment: 64)
        do {
            // The stored [rows, columns] matrix is the logical [k, n] operand transposed.
            let plain = try OneDNN.descriptor(rows: columns, columns: rows, dnnl_bf16, transposed: true)
            try bits.withUnsafeBufferPointer { try Self.reorder(plain, UnsafeMutableRawPointer(mutating: $0.baseAddress!), to: layout, reordered) }
        } catch {
            reordered.deallocate()
            throw error
        }
        weights = reordered
    }

    deinit { weights.deallocate() }

    /// Whether oneDNN has a BF16 matmul for this CPU (it needs AVX-512).
    public static let isAvailable: Bool = (try? OneDNN.weightsLayout(n: 16, k: 16)) != nil

    /// Bytes the reordered weights take.
    public var byteCount: Int {
        var layout = weightsDescriptor
        return dnnl_memory_desc_get_size(&layout)
    }

    /// Rounds `values` (a row-major `[rows, columns]` Float32 matrix) to BF16, nearest even, and
    /// reorders them as `init(bits:rows:columns:)` does.
    public convenience init(values: UnsafeBufferPointer<Float>, rows: Int, columns: Int) throws {
        precondition(values.count == rows * columns, "\(values.count) values are not [\(rows), \(columns)]")
        var bits = [UInt16](repeating: 0, count: values.count)
        bits.withUnsafeMutableBufferPointer { Self.round(values.baseAddress!, count: values.count, into: $0.baseAddress!) }
        try self.init(bits: bits, rows: rows, columns: columns)
    }

    /// The weights' BF16 bit patterns, row-major `[rows, columns]`, as they were given (the
    /// reorder back from the blocked layout is exact).
    public func bits() throws -> [UInt16] {
        var out = [UInt16](repeating: 0, count: rows * columns)
        let plain = try OneDNN.descriptor(rows: columns, columns: rows, dnnl_bf16, transposed: true)
        try out.withUnsafeMutableBytes { try Self.reorder(weightsDescriptor, weights, to: plain, $0.baseAddress!) }
        return out
    }

    /// Copies the matrix at `source` (laid out as `from`) to `destination` (laid out as `to`).
    private static func reorder(_ from: dnnl_memory_desc_t, _ source: UnsafeMutableRawPointer,
                                to: dnnl_memory_desc_t, _ destination: UnsafeMutableRawPointer) throws {
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

    /// `c[m, rows] = a[m, columns] · Wᵀ`, plus `c`'s previous contents when `accumulate`. Rows
    /// are contiguous (`lda = columns`, `ldc = rows`). oneDNN spreads the call over the cores.
    /// The primitive runs on `paddedRows(m)` rows (zero rows added, their outputs dropped), so
    /// that a few primitives serve every row count.
    public func product(_ a: UnsafePointer<Float>, m: Int, into c: UnsafeMutablePointer<Float>, accumulate: Bool) throws {
        guard m > 0 else { return }
        let padded = Self.paddedRows(m)
        let matmul = try OneDNN.matmul(m: padded, n: rows, k: columns, accumulate: accumulate)
        let engine = try OneDNN.engine()
        let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: padded * columns)
        defer { rounded.deallocate() }
        Self.round(a, count: m * columns, into: rounded)
        (rounded + m * columns).initialize(repeating: 0, count: (padded - m) * columns)
        let out = padded == m ? c : UnsafeMutablePointer<Float>.allocate(capacity: padded * rows)
        defer { if out != c { out.deallocate() } }
        if out != c {
            if accumulate { out.update(from: c, count: m * rows) } else { out.initialize(repeating: 0, count: m * rows) }
            (out + m * rows).initialize(repeating: 0, count: (padded - m) * rows)
        }
        var src = try OneDNN.descriptor(rows: padded, columns: columns, dnnl_bf16)
        var dst = try OneDNN.descriptor(rows: padded, columns: rows, dnnl_f32)
        var layout = weightsDescriptor
        var srcMemory: dnnl_memory_t?, weightsMemory: dnnl_memory_t?, dstMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&srcMemory, &src, engine, rounded), "dnnl_memory_create")
        defer { dnnl_memory_destroy(srcMemory) }
        try OneDNN.check(dnnl_memory_create(&weightsMemory, &layout, engine, weights), "dnnl_memory_create")
        defer { dnnl_memory_destroy(weightsMemory) }
        try OneDNN.check(dnnl_memory_create(&dstMemory, &dst, engine, out), "dnnl_memory_create")
        defer { dnnl_memory_destroy(dstMemory) }
        try Self.run(matmul, engine, [(Int32(DNNL_ARG_SRC), srcMemory!), (Int32(DNNL_ARG_WEIGHTS), weightsMemory!),
                                                (Int32(DNNL_ARG_DST), dstMemory!)])
        if out != c { c.update(from: out, count: m * rows) }
    }

    /// The row count a product of `m` rows runs on: the next power of two up to 32, then the next
    /// multiple of 32 up to 1024, then of 256 (at most 6 + 31 primitives per shape and mode up to 1024 rows).
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
