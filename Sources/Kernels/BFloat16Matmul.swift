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
    public init(bits: UnsafeBufferPointer<UInt16>, rows: Int, columns: Int) throws {
        precondition(rows > 0 && columns > 0 && bits.count == rows * columns, "\(bits.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        var layout = try OneDNN.weightsLayout(n: rows, k: columns)
        weightsDescriptor = layout
        let reordered = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(&layout), alignment: 64)
        do {
            let engine = try OneDNN.engine()
            // The stored [rows, columns] matrix is the logical [k, n] operand transposed.
            var source = try OneDNN.descriptor(rows: columns, columns: rows, dnnl_bf16, transposed: true)
            var from: dnnl_memory_t?, to: dnnl_memory_t?
            try OneDNN.check(dnnl_memory_create(&from, &source, engine, UnsafeMutableRawPointer(mutating: bits.baseAddress!)), "dnnl_memory_create")
            defer { dnnl_memory_destroy(from) }
            try OneDNN.check(dnnl_memory_create(&to, &layout, engine, reordered), "dnnl_memory_create")
            defer { dnnl_memory_destroy(to) }
            var pd: dnnl_primitive_desc_t?
            try OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &source, engine, &layout, engine, nil), "dnnl_reorder_primitive_desc_create")
            defer { dnnl_primitive_desc_destroy(pd) }
            var reorder: dnnl_primitive_t?
            try OneDNN.check(dnnl_primitive_create(&reorder, pd), "dnnl_primitive_create")
            defer { dnnl_primitive_destroy(reorder) }
            try Self.run(reorder!, engine, [(Int32(DNNL_ARG_FROM), from!), (Int32(DNNL_ARG_TO), to!)])
        } catch {
            reordered.deallocate()
            throw error
        }
        weights = reordered
    }

    deinit { weights.deallocate() }

    /// Bytes the reordered weights take.
    public var byteCount: Int {
        var layout = weightsDescriptor
        return dnnl_memory_desc_get_size(&layout)
    }

    /// `c[m, rows] = a[m, columns] · Wᵀ`, plus `c`'s previous contents when `accumulate`. Rows
    /// are contiguous (`lda = columns`, `ldc = rows`). oneDNN spreads the call over the cores.
    public func product(_ a: UnsafePointer<Float>, m: Int, into c: UnsafeMutablePointer<Float>, accumulate: Bool) throws {
        guard m > 0 else { return }
        let matmul = try OneDNN.matmul(m: m, n: rows, k: columns, accumulate: accumulate)
        let engine = try OneDNN.engine()
        let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: m * columns)
        defer { rounded.deallocate() }
        Self.round(a, count: m * columns, into: rounded)
        var src = try OneDNN.descriptor(rows: m, columns: columns, dnnl_bf16)
        var dst = try OneDNN.descriptor(rows: m, columns: rows, dnnl_f32)
        var layout = weightsDescriptor
        var srcMemory: dnnl_memory_t?, weightsMemory: dnnl_memory_t?, dstMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&srcMemory, &src, engine, rounded), "dnnl_memory_create")
        defer { dnnl_memory_destroy(srcMemory) }
        try OneDNN.check(dnnl_memory_create(&weightsMemory, &layout, engine, weights), "dnnl_memory_create")
        defer { dnnl_memory_destroy(weightsMemory) }
        try OneDNN.check(dnnl_memory_create(&dstMemory, &dst, engine, c), "dnnl_memory_create")
        defer { dnnl_memory_destroy(dstMemory) }
        try Self.run(matmul, engine, [(Int32(DNNL_ARG_SRC), srcMemory!), (Int32(DNNL_ARG_WEIGHTS), weightsMemory!),
                                                (Int32(DNNL_ARG_DST), dstMemory!)])
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
