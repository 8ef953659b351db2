import COneDNN
import Foundation

/// A oneDNN call that failed: the function and oneDNN's status code.
public struct OneDNNError: Error, CustomStringConvertible {
    public let call: String
    public let status: Int

    public var description: String {
        status == Int(dnnl_unimplemented.rawValue)
            ? "oneDNN has no implementation of \(call) for this CPU (its packed matmul needs AVX-512)"
            : "oneDNN \(call) failed (status \(status))"
    }
}

/// The process's oneDNN CPU engine and the matmul primitives made on it, one per product shape
/// and operand type. A primitive is made for a fixed row count `m` (oneDNN 2.6 runs a runtime `m`
/// through its slower `gemm:jit`, 7.5 GFLOP/s at m = 1, instead of `brg:avx512_core`); the
/// weights' blocked layout depends only on `[n, k]`, so weights reordered once serve every `m`.
///
/// oneDNN runs each call on the calling thread alone (`holdToCallingThread`): `PackedMatmul`
/// spreads the work over the cores itself, and oneDNN's OpenMP threads, which spin between calls,
/// would otherwise take the cores from bip's own.
enum OneDNN {
    struct Key: Hashable {
        let m: Int, n: Int, k: Int, type: UInt32
    }

    struct Shape: Hashable {
        let n: Int, k: Int, type: UInt32
    }

    static func check(_ status: dnnl_status_t, _ call: String) throws {
        if status != dnnl_success { throw OneDNNError(call: call, status: Int(status.rawValue)) }
    }

    nonisolated(unsafe) private static var engineHandle: dnnl_engine_t?
    nonisolated(unsafe) private static var layouts: [Shape: dnnl_memory_desc_t] = [:]
    nonisolated(unsafe) private static var primitives: [Key: Matmul] = [:]

    /// A matmul primitive and the scratch memory each of its calls needs: the caller passes its
    /// own (`dnnl_scratchpad_mode_user`), as calls of one primitive may run at once on several
    /// threads, and the library's shared scratchpad is not safe for that.
    struct Matmul {
        let primitive: dnnl_primitive_t
        let scratchpad: dnnl_memory_desc_t
    }
    private static let lock = NSLock()

    /// libgomp's `omp_set_num_threads`, loaded with oneDNN (looked up: the toolchain has no
    /// `libgomp.so` to link against by name).
    private static let setThreadCount: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()

    /// Makes oneDNN's next calls from this thread run on it alone, as if one core: OpenMP keeps
    /// the thread count per thread. Primitives are made this way too, so that their blocking is
    /// chosen for one thread.
    static func holdToCallingThread() { setThreadCount?(1) }

    static func engine() throws -> dnnl_engine_t {
        lock.lock()
        defer { lock.unlock() }
        return try lockedEngine()
    }

    private static func lockedEngine() throws -> dnnl_engine_t {
        if let engineHandle { return engineHandle }
        var engine: dnnl_engine_t?
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
        engineHandle = engine
        return engine!
    }

    /// A `[rows, columns]` memory descriptor, stored row-major, or column-major when `transposed`.
    static func descriptor(rows: Int, columns: Int, _ type: dnnl_data_type_t, transposed: Bool = false) throws -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let dims: [Int64] = [Int64(rows), Int64(columns)]
        try check(dnnl_memory_desc_init_by_tag(&md, 2, dims, type, transposed ? dnnl_ba : dnnl_ab), "dnnl_memory_desc_init_by_tag")
        return md
    }

    /// The blocked layout oneDNN wants the weights `[n, k]` (the logical `[k, n]` operand) of
    /// `type` in.
    static func weightsLayout(n: Int, k: Int, _ type: dnnl_data_type_t) throws -> dnnl_memory_desc_t {
        holdToCallingThread()
        lock.lock()
        defer { lock.unlock() }
        return try lockedLayout(n: n, k: k, type)
    }

    private static func lockedLayout(n: Int, k: Int, _ type: dnnl_data_type_t) throws -> dnnl_memory_desc_t {
        let shape = Shape(n: n, k: k, type: type.rawValue)
        if let layout = layouts[shape] { return layout }
        let pd = try primitiveDescriptor(m: 128, n: n, k: k, weights: try anyLayout(n: n, k: k, type), type)
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let layout = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)?.pointee else {
            throw OneDNNError(call: "dnnl_primitive_desc_query_md", status: Int(dnnl_invalid_arguments.rawValue))
        }
        layouts[shape] = layout
        return layout
    }

    /// Weights `[n, k]` of `type` in whatever layout the primitive chooses.
    private static func anyLayout(n: Int, k: Int, _ type: dnnl_data_type_t) throws -> dnnl_memory_desc_t {
        var any = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_tag(&any, 2, [Int64(k), Int64(n)], type, dnnl_format_tag_any), "dnnl_memory_desc_init_by_tag")
        return any
    }

    /// Whether oneDNN's matmul for `type` on this CPU is its blocked AVX-512 kernel (`brg:avx512_core…`),
    /// the one whose weights can be packed ahead of time. Elsewhere it falls back to a plain gemm
    /// that repacks, or has none (BF16 without AVX-512).
    static func hasBlockedMatmul(_ type: dnnl_data_type_t) -> Bool {
        holdToCallingThread()
        lock.lock()
        defer { lock.unlock() }
        guard let any = try? anyLayout(n: 64, k: 64, type),
              let pd = try? primitiveDescriptor(m: 64, n: 64, k: 64, weights: any, type) else { return false }
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return false }
        return String(cString: name).hasPrefix("brg:avx512_core")
    }

    /// The cached primitive for `[m, k] · [n, k]ᵀ`: activations and weights (in `weightsLayout`)
    /// of `type`, Float32 output. Made on first use, on the calling thread held to itself.
    static func matmul(m: Int, n: Int, k: Int, _ type: dnnl_data_type_t) throws -> Matmul {
        lock.lock()
        defer { lock.unlock() }
        let key = Key(m: m, n: n, k: k, type: type.rawValue)
        if let cached = primitives[key] { return cached }
        let pd = try primitiveDescriptor(m: m, n: n, k: k, weights: try lockedLayout(n: n, k: k, type), type)
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        try check(dnnl_primitive_create(&primitive, pd), "dnnl_primitive_create")
        guard let scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)?.pointee else {
            throw OneDNNError(call: "dnnl_primitive_desc_query_md", status: Int(dnnl_invalid_arguments.rawValue))
        }
        let matmul = Matmul(primitive: primitive!, scratchpad: scratchpad)
        primitives[key] = matmul
        return matmul
    }

    private static func primitiveDescriptor(m: Int, n: Int, k: Int, weights: dnnl_memory_desc_t, _ type: dnnl_data_type_t) throws -> dnnl_primitive_desc_t {
        var src = try descriptor(rows: m, columns: k, type)
        var dst = try descriptor(rows: m, columns: n, dnnl_f32)
        var weights = weights
        var desc = dnnl_matmul_desc_t()
        try check(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "dnnl_matmul_desc_init")
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        try check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "dnnl_primitive_attr_set_scratchpad_mode")
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&pd, &desc, attr, lockedEngine(), nil), "dnnl_primitive_desc_create")
        return pd!
    }
}
