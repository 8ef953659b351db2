import COneDNN
import Foundation

/// A oneDNN call that failed: the function and oneDNN's status code.
public struct OneDNNError: Error, CustomStringConvertible {
    public let call: String
    public let status: Int

    public var description: String {
        status == Int(dnnl_unimplemented.rawValue)
            ? "oneDNN has no implementation of \(call) for this CPU (its BF16 matmul needs AVX-512)"
            : "oneDNN \(call) failed (status \(status))"
    }
}

/// The process's oneDNN CPU engine and the BF16 matmul primitives made on it, one per product
/// shape and accumulate mode. A primitive is made for a fixed row count `m` (oneDNN 2.6 runs a
/// runtime `m` through its slower `gemm:jit`, 7.5 GFLOP/s at m = 1, instead of `brg:avx512_core_bf16`);
/// the weights' blocked layout depends only on `[n, k]` (the same for every `m` and with the sum
/// post-op), so weights reordered once serve every `m`. oneDNN spreads each call over the cores
/// with OpenMP.
enum OneDNN {
    struct Key: Hashable {
        let m: Int, n: Int, k: Int, accumulate: Bool
    }

    struct Shape: Hashable {
        let n: Int, k: Int
    }

    static func check(_ status: dnnl_status_t, _ call: String) throws {
        if status != dnnl_success { throw OneDNNError(call: call, status: Int(status.rawValue)) }
    }

    nonisolated(unsafe) private static var engineHandle: dnnl_engine_t?
    nonisolated(unsafe) private static var layouts: [Shape: dnnl_memory_desc_t] = [:]
    nonisolated(unsafe) private static var primitives: [Key: dnnl_primitive_t] = [:]
    private static let lock = NSLock()

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

    /// The blocked layout oneDNN wants the BF16 weights `[n, k]` (the logical `[k, n]` operand) in.
    static func weightsLayout(n: Int, k: Int) throws -> dnnl_memory_desc_t {
        lock.lock()
        defer { lock.unlock() }
        return try lockedLayout(n: n, k: k)
    }

    private static func lockedLayout(n: Int, k: Int) throws -> dnnl_memory_desc_t {
        if let layout = layouts[Shape(n: n, k: k)] { return layout }
        var any = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_tag(&any, 2, [Int64(k), Int64(n)], dnnl_bf16, dnnl_format_tag_any), "dnnl_memory_desc_init_by_tag")
        let pd = try primitiveDescriptor(m: 128, n: n, k: k, weights: any, accumulate: false)
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let layout = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)?.pointee else {
            throw OneDNNError(call: "dnnl_primitive_desc_query_md", status: Int(dnnl_invalid_arguments.rawValue))
        }
        layouts[Shape(n: n, k: k)] = layout
        return layout
    }

    /// The cached primitive for `[m, k] · [n, k]ᵀ`, made on first use: BF16 activations and
    /// weights (in `weightsLayout`), Float32 output, plus the output's previous contents when `accumulate`.
    static func matmul(m: Int, n: Int, k: Int, accumulate: Bool) throws -> dnnl_primitive_t {
        lock.lock()
        defer { lock.unlock() }
        let key = Key(m: m, n: n, k: k, accumulate: accumulate)
        if let cached = primitives[key] { return cached }
        let pd = try primitiveDescriptor(m: m, n: n, k: k, weights: try lockedLayout(n: n, k: k), accumulate: accumulate)
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        try check(dnnl_primitive_create(&primitive, pd), "dnnl_primitive_create")
        primitives[key] = primitive!
        return primitive!
    }

    private static func primitiveDescriptor(m: Int, n: Int, k: Int, weights: dnnl_memory_desc_t, accumulate: Bool) throws -> dnnl_primitive_desc_t {
        var src = try descriptor(rows: m, columns: k, dnnl_bf16)
        var dst = try descriptor(rows: m, columns: n, dnnl_f32)
        var weights = weights
        var desc = dnnl_matmul_desc_t()
        try check(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "dnnl_matmul_desc_init")
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        if accumulate {
            var ops: dnnl_post_ops_t?
            try check(dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
            defer { dnnl_post_ops_destroy(ops) }
            try check(dnnl_post_ops_append_sum(ops, 1), "dnnl_post_ops_append_sum")
            try check(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops")
        }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&pd, &desc, attr, lockedEngine(), nil), "dnnl_primitive_desc_create")
        return pd!
    }
}
