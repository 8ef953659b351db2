import Foundation
import Runtime
import TestSupport
import XCTest

/// `GGUFModelLoader` on a hand-built one-layer GGUF (hidden 8, 2 heads of dimension 4, FFN 4,
/// vocabulary 3, F32): llama's q/k rows and biases are un-permuted, qwen2's are kept as stored,
/// RoPE base and LM head come from the file, and other architectures are refused by name.
final class GGUFModelLoaderTests: XCTestCase {
    typealias W = GGUFWriterForTests

    /// Element i of a tensor named `name`: distinct across tensors, exact in Float32.
    func values(_ name: String, _ count: Int) -> [Float] {
        let base = Float(name.utf8.reduce(0) { ($0 * 31 + Int($1)) % 997 })
        return (0..<count).map { base + Float($0) / 64 }
    }

    func write(architecture: String, outputHead: Bool) throws -> GGUFFile {
        var w = W()
        let a = architecture
        w.metadata = [
            .value("general.architecture", .string(a)), .value("\(a).block_count", .uint32(1)),
            .value("\(a).embedding_length", .uint32(8)), .value("\(a).attention.head_count", .uint32(2)),
            .value("\(a).attention.head_count_kv", .uint32(2)), .value("\(a).feed_forward_length", .uint32(4)),
            .value("\(a).rope.freq_base", .float32(1_000_000)),
        ]
        var shapes: [(String, [UInt64])] = [
            ("token_embd.weight", [8, 3]), ("output_norm.weight", [8]),
            ("blk.0.attn_norm.weight", [8]), ("blk.0.ffn_norm.weight", [8]),
            ("blk.0.attn_q.weight", [8, 8]), ("blk.0.attn_q.bias", [8]),
            ("blk.0.attn_k.weight", [8, 8]), ("blk.0.attn_k.bias", [8]),
            ("blk.0.attn_v.weight", [8, 8]), ("blk.0.attn_v.bias", [8]), ("blk.0.attn_output.weight", [8, 8]),
            ("blk.0.ffn_gate.weight", [8, 4]), ("blk.0.ffn_up.weight", [8, 4]), ("blk.0.ffn_down.weight", [4, 8]),
        ]
        if outputHead { shapes.append(("output.weight", [8, 3])) }
        w.tensors = shapes.map { name, dims in
            .init(name: name, dims: dims, type: 0, data: W.f32Bytes(values(name, Int(dims.reduce(1, *)))))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bip-loader-\(UUID().uuidString).gguf").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: try w.write(to: path))
    }

    /// Rows of 8 columns (or single values, `columns` 1) in llama.cpp's order, as HF orders them:
    /// within each head of 4, stored rows 0, 1, 2, 3 are HF rows 0, 2, 1, 3.
    func hfOrder(_ stored: [Float], columns: Int) -> [Float] {
        let source = [0, 2, 1, 3, 4, 6, 5, 7]
        return source.flatMap { stored[($0 * columns)..<(($0 + 1) * columns)] }
    }

    func testLlamaRowsAndBiasesAreUnpermuted() throws {
        let model = try GGUFModelLoader.load(try write(architecture: "llama", outputHead: false))
        let layer = model.layers[0]
        XCTAssertEqual(layer.q.weight.floats, hfOrder(values("blk.0.attn_q.weight", 64), columns: 8))
        XCTAssertEqual(layer.q.bias, hfOrder(values("blk.0.attn_q.bias", 8), columns: 1))
        XCTAssertEqual(layer.k.bias, hfOrder(values("blk.0.attn_k.bias", 8), columns: 1))
        XCTAssertEqual(layer.v.weight.floats, values("blk.0.attn_v.weight", 64), "v is never permuted")
        XCTAssertEqual(layer.v.bias, values("blk.0.attn_v.bias", 8))
        XCTAssertNil(layer.output.bias)
        XCTAssertNil(model.lmHead, "no output.weight: tied")
        XCTAssertEqual(model.config.ropeBase, 1_000_000)
    }

    func testQwen2RowsAndBiasesAreKeptAsStored() throws {
        let model = try GGUFModelLoader.load(try write(architecture: "qwen2", outputHead: true))
        let layer = model.layers[0]
        XCTAssertEqual(model.config.architecture, "qwen2")
        XCTAssertEqual(layer.q.weight.floats, values("blk.0.attn_q.weight", 64))
        XCTAssertEqual(layer.q.bias, values("blk.0.attn_q.bias", 8))
        XCTAssertEqual(layer.k.weight.floats, values("blk.0.attn_k.weight", 64))
        XCTAssertEqual(layer.k.bias, values("blk.0.attn_k.bias", 8))
        XCTAssertEqual(model.lmHead, values("output.weight", 24))
    }

    func testOtherArchitecturesAreRefusedByName() throws {
        let gguf = try write(architecture: "gpt2", outputHead: false)
        XCTAssertThrowsError(try GGUFModelLoader.load(gguf)) { error in
            guard let e = error as? FileError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.file, gguf.path)
            XCTAssertTrue(e.problem.contains("architecture 'gpt2' is not supported (bip runs 'llama', 'qwen2')"), e.problem)
        }
    }
}
