import Foundation
import TestSupport
import XCTest
import Runtime

/// The default model's GGUF file as stored: its header, quantized tensor types and layout.
final class RealModelFileTests: XCTestCase {
    func testRealModel() throws {
        // Located by TestModel (BIP_MODEL_GGUF, BIP_HOME or the cache); a missing model fails.
        let p = try TestModel.ggufPath()
        let g = try GGUFFile(path: p)
        XCTAssertEqual(g.version, 3)
        XCTAssertEqual(g.tensors.count, 272)
        XCTAssertEqual(try g.requireInt("llama.block_count"), 30)
        XCTAssertEqual(try g.requireInt("llama.embedding_length"), 576)
        XCTAssertEqual(try g.requireString("general.architecture"), "llama")

        let embed = try g.requireTensor("token_embd.weight")
        XCTAssertEqual(embed.type, .q8_0)
        XCTAssertEqual(embed.dims, [576, 49152])
        let k = try g.requireTensor("blk.0.attn_k.weight")
        XCTAssertEqual(k.type, .q4_1)
        XCTAssertEqual(k.dims, [576, 192])
        XCTAssertEqual(k.byteCount, 576 * 192 / 32 * 20)

        let norm = try g.requireTensor("blk.0.attn_norm.weight")
        XCTAssertEqual(norm.type, .f32)
        let values = try g.floats(norm)
        XCTAssertEqual(values.count, 576)
        XCTAssertTrue(values.allSatisfy(\.isFinite))

        let kValues = try g.floats(k)
        XCTAssertEqual(kValues.count, 576 * 192)
        XCTAssertTrue(kValues.allSatisfy(\.isFinite))

        let fileSize = (try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: p).resolvingSymlinksInPath().path)[.size] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(fileSize, 0)
        for t in g.tensors {
            XCTAssertEqual(t.fileOffset % g.alignment, 0, t.name)
            XCTAssertLessThanOrEqual(t.fileOffset + t.byteCount, fileSize, t.name)
        }
    }
}
