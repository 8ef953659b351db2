import Foundation
import TestSupport
import XCTest
@testable import Runtime

final class GGUFReaderTests: XCTestCase {
    typealias W = GGUFWriterForTests
    var directory: URL!

    override func setUpWithError() throws {
        directory = try temporaryFolder("gguf-tests")
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    // MARK: - helpers

    /// Writes `writer` (optionally truncated), opens it, and checks the open fails with a
    /// `FileError` naming the file whose problem contains every one of `words`.
    @discardableResult
    func assertBroken(_ writer: W, truncatedTo: Int? = nil, _ words: String...,
                      name: String = "broken.gguf",
                      file: StaticString = #filePath, line: UInt = #line) throws -> FileError? {
        let p = try writer.write(to: path(name), truncatedTo: truncatedTo)
        return assertOpenFails(p, words, file: file, line: line)
    }

    @discardableResult
    func assertOpenFails(_ p: String, _ words: [String],
                         file: StaticString = #filePath, line: UInt = #line) -> FileError? {
        do {
            let g = try GGUFFile(path: p)
            XCTFail("expected an error, opened a file with \(g.tensors.count) tensors", file: file, line: line)
            return nil
        } catch let error as FileError {
            XCTAssertEqual(error.file, p, file: file, line: line)
            for w in words {
                XCTAssertTrue(error.problem.contains(w), "'\(error.problem)' does not mention '\(w)'",
                              file: file, line: line)
            }
            XCTAssertTrue(error.description.hasPrefix(p), file: file, line: line)
            return error
        } catch {
            XCTFail("expected a FileError, got \(type(of: error)): \(error)", file: file, line: line)
            return nil
        }
    }

    static let allScalarMetadata: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("t.uint8", .uint8(255)),
        ("t.int8", .int8(-128)),
        ("t.uint16", .uint16(65535)),
        ("t.int16", .int16(-32768)),
        ("t.uint32", .uint32(.max)),
        ("t.int32", .int32(.min)),
        ("t.float32", .float32(-1.5)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ wörld")),
        ("t.string.empty", .string("")),
        ("t.uint64", .uint64(.max)),
        ("t.int64", .int64(.min)),
        ("t.float64", .float64(-2.25e300)),
        ("t.array.int32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("t.array.float32", .array([.float32(0.25), .float32(-8)])),
        ("t.array.bool", .array([.bool(true), .bool(false), .bool(true)])),
        ("t.array.uint64", .array([.uint64(0), .uint64(1 << 40)])),
        ("t.array.float64", .array([.float64(1e-300)])),
        ("t.array.string", .array([.string("a"), .string(""), .string("ünïcode ✓")])),
        ("t.array.empty", .array([])),
        ("t.array.nested", .array([.array([.uint16(1), .uint16(2)]), .array([.uint16(3)])])),
        ("t.array.nested.strings", .array([.array([.string("x")]), .array([.string("y"), .string("z")])])),
    ]

    static let q8Block: [UInt8] = [0x00, 0x3C] + (0..<32).map { UInt8(truncatingIfNeeded: Int8($0 - 16)) }

    /// A valid file with every metadata type and three tensors of different types.
    func validWriter(version: UInt32, alignment: UInt32?) -> W {
        var w = W()
        w.version = version
        w.metadata = Self.allScalarMetadata.map { .value($0.0, $0.1) }
        if let alignment { w.metadata.append(.value("general.alignment", .uint32(alignment))) }
        w.tensors = [
            .init(name: "a.f32", dims: [3], type: 0, data: W.f32Bytes([1, -2, 0.5])),
            .init(name: "b.q8_0", dims: [32, 2], type: 8, data: Self.q8Block + Self.q8Block),
            .init(name: "c.f16", dims: [5, 1], type: 1, data: W.u16Bytes([0x3C00, 0x3800, 0xC000, 0, 0x4248])),
        ]
        return w
    }

    func checkRoundTrip(version: UInt32, alignment: UInt32?) throws {
        let w = validWriter(version: version, alignment: alignment)
        let p = try w.write(to: path("valid-v\(version).gguf"))
        let g = try GGUFFile(path: p)
        XCTAssertEqual(g.path, p)
        XCTAssertEqual(g.version, version)
        let expectedAlignment = Int(alignment ?? 32)
        XCTAssertEqual(g.alignment, expectedAlignment)

        var expected = Dictionary(uniqueKeysWithValues: Self.allScalarMetadata)
        if let alignment { expected["general.alignment"] = .uint32(alignment) }
        XCTAssertEqual(g.metadata.count, expected.count)
        for (key, value) in expected {
            XCTAssertEqual(g.metadata[key], value, "metadata '\(key)'")
        }
        // Types are kept, not just values.
        XCTAssertNotEqual(g.metadata["t.uint8"], .int8(-1))
        XCTAssertEqual(g.metadata["t.array.string"]?.strings, ["a", "", "ünïcode ✓"])
        XCTAssertEqual(g.metadata["t.array.int32"]?.ints, [1, -2, 3])
        XCTAssertEqual(g.metadata["t.array.float32"]?.floats, [0.25, -8])
        XCTAssertEqual(try g.requireInt("t.int32"), Int(Int32.min))
        XCTAssertEqual(try g.requireString("general.architecture"), "llama")
        XCTAssertNil(g.metadata["t.uint64"]?.int, "UInt64.max does not fit an Int")
        XCTAssertThrowsError(try g.requireInt("t.string"))
        XCTAssertThrowsError(try g.requireString("missing.key")) { error in
            XCTAssertEqual((error as? FileError)?.file, p)
        }

        // Tensor directory: names in file order, dims, types, offsets, sizes.
        XCTAssertEqual(g.tensors.map(\.name), ["a.f32", "b.q8_0", "c.f16"])
        XCTAssertEqual(g.tensors.map(\.dims), [[3], [32, 2], [5, 1]])
        XCTAssertEqual(g.tensors.map(\.type), [.f32, .q8_0, .f16])
        XCTAssertEqual(g.tensors.map(\.byteCount), [12, 68, 10])
        XCTAssertEqual(g.tensors.map(\.elementCount), [3, 64, 5])
        XCTAssertEqual(g.tensors[1].rows, 2)
        XCTAssertEqual(g.tensors[1].columns, 32)
        let dataStart = w.dataStart
        XCTAssertEqual(dataStart % expectedAlignment, 0)
        XCTAssertGreaterThanOrEqual(dataStart, w.headerBytes().count)
        XCTAssertLessThan(dataStart - w.headerBytes().count, expectedAlignment)
        let relative = (0..<3).map { i in Self.padded(i, expectedAlignment) }
        XCTAssertEqual(g.tensors.map(\.fileOffset), relative.map { dataStart + $0 })
        for t in g.tensors { XCTAssertEqual(t.fileOffset % expectedAlignment, 0, t.name) }
        XCTAssertEqual(g.tensor("b.q8_0")?.fileOffset, g.tensors[1].fileOffset)
        XCTAssertNil(g.tensor("nope"))
        XCTAssertThrowsError(try g.requireTensor("nope")) { error in
            XCTAssertEqual((error as? FileError)?.file, p)
            XCTAssertTrue((error as? FileError)?.problem.contains("nope") ?? false)
        }

        // Data is read from the aligned place.
        XCTAssertEqual(try g.floats(g.requireTensor("a.f32")), [1, -2, 0.5])
        let q8 = (0..<32).map { Float($0 - 16) }
        XCTAssertEqual(try g.floats(g.requireTensor("b.q8_0")), q8 + q8)
        XCTAssertEqual(try g.floats(g.requireTensor("c.f16")), [1, 0.5, -2, 0, 3.140625])
    }

    /// Offset (relative to data start) of the i-th of the three test tensors: 12, 68 and 10
    /// bytes, each placed at the next multiple of the alignment.
    static func padded(_ i: Int, _ alignment: Int) -> Int {
        let sizes = [12, 68, 10]
        var next = 0
        var offset = 0
        for k in 0...i {
            offset = W.padded(next, to: alignment)
            next = offset + sizes[k]
        }
        return offset
    }

    // MARK: - valid files

    func testV3RoundTripWithAlignment64() throws {
        try checkRoundTrip(version: 3, alignment: 64)
    }

    func testV2RoundTripWithDefaultAlignment() throws {
        try checkRoundTrip(version: 2, alignment: nil)
    }

    func testV3RoundTripWithAlignment32Explicit() throws {
        try checkRoundTrip(version: 3, alignment: 32)
    }

    func testAlignment64PlacesDataWhereThe32ByteDefaultWouldNot() throws {
        // A header whose end is 32-aligned but not 64-aligned: reading with the default
        // alignment would look 32 bytes too early.
        var w = W()
        w.metadata = [.value("general.alignment", .uint32(64))]
        w.tensors = [.init(name: "x", dims: [4], type: 0, data: W.f32Bytes([7, 8, 9, 10]))]
        var pad = 0
        while true {
            w.metadata = [.value("general.alignment", .uint32(64)),
                          .value("pad", .string(String(repeating: "p", count: pad)))]
            let end = w.headerBytes().count
            if end % 64 != 0 && W.padded(end, to: 32) % 64 != 0 { break }
            pad += 1
        }
        let p = try w.write(to: path("align64.gguf"))
        let g = try GGUFFile(path: p)
        XCTAssertEqual(g.alignment, 64)
        XCTAssertEqual(g.tensors[0].fileOffset % 64, 0)
        XCTAssertEqual(g.tensors[0].fileOffset, w.dataStart)
        XCTAssertEqual(try g.floats(g.tensors[0]), [7, 8, 9, 10])
    }

    func testExplicitOffsetsAreRelativeToTheDataSection() throws {
        var w = W()
        w.tensors = [
            .init(name: "late", dims: [2], type: 0, data: W.f32Bytes([3, 4]), offset: 64),
            .init(name: "early", dims: [2], type: 0, data: W.f32Bytes([1, 2]), offset: 0),
        ]
        let g = try GGUFFile(path: try w.write(to: path("offsets.gguf")))
        XCTAssertEqual(g.tensors.map(\.name), ["late", "early"])
        XCTAssertEqual(g.tensors[0].fileOffset, w.dataStart + 64)
        XCTAssertEqual(try g.floats(g.tensors[0]), [3, 4])
        XCTAssertEqual(try g.floats(g.tensors[1]), [1, 2])
    }

    func testFileWithNoTensorsAndNoMetadata() throws {
        let g = try GGUFFile(path: try W().write(to: path("empty-directory.gguf")))
        XCTAssertEqual(g.version, 3)
        XCTAssertTrue(g.tensors.isEmpty)
        XCTAssertTrue(g.metadata.isEmpty)
    }

    /// Q2_K stores about 3 elements per byte: a file that is mostly one Q2_K tensor is valid.
    func testDenseQ2KTensorFillingTheFileLoads() throws {
        var w = W()
        w.tensors = [.init(name: "q2k", dims: [256 * 8], type: 10, data: [UInt8](repeating: 0, count: 84 * 8))]
        let p = try w.write(to: path("q2k.gguf"))
        let g = try GGUFFile(path: p)
        XCTAssertEqual(g.tensors[0].type, .q2_K)
        XCTAssertEqual(g.tensors[0].byteCount, 84 * 8)
        XCTAssertEqual(g.tensors[0].elementCount, 2048)
    }

    func testUnsupportedTypeLoadsButDoesNotDecode() throws {
        var w = W()
        w.tensors = [
            .init(name: "blk.0.ffn_down.weight", dims: [256, 2], type: 11, data: [UInt8](repeating: 1, count: 220)),
            .init(name: "ok", dims: [1], type: 0, data: W.f32Bytes([5])),
        ]
        let p = try w.write(to: path("q3k.gguf"))
        let g = try GGUFFile(path: p)
        let info = try g.requireTensor("blk.0.ffn_down.weight")
        XCTAssertEqual(info.type, .q3_K)
        XCTAssertEqual(info.type.description, "Q3_K")
        XCTAssertEqual(info.byteCount, 220)
        XCTAssertEqual(try g.floats(g.requireTensor("ok")), [5])
        XCTAssertThrowsError(try g.floats(info)) { error in
            guard let e = error as? FileError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.file, p)
            XCTAssertTrue(e.problem.contains("blk.0.ffn_down.weight"), e.problem)
            XCTAssertTrue(e.problem.contains("Q3_K"), e.problem)
        }
    }

    // MARK: - broken files

    func testWrongMagic() throws {
        var w = validWriter(version: 3, alignment: nil)
        w.magic = Array("GGML".utf8)
        try assertBroken(w, "not a GGUF file", "GGML")
        w.magic = [0x00, 0xFF, 0x47, 0x0A]
        try assertBroken(w, "not a GGUF file")
    }

    func testUnsupportedVersions() throws {
        for v: UInt32 in [0, 1, 4, 0x0300_0000] {
            var w = validWriter(version: v, alignment: nil)
            w.version = v
            try assertBroken(w, "unsupported GGUF version \(v)")
        }
    }

    func testEmptyAndMissingFiles() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path("zero.gguf"), contents: Data()))
        assertOpenFails(path("zero.gguf"), ["empty"])
        assertOpenFails(path("does-not-exist.gguf"), ["cannot open"])
        assertOpenFails(directory.path, ["not a regular file"])
    }

    func testTruncatedAtEveryHeaderByteAndInsideTheData() throws {
        let w = validWriter(version: 3, alignment: 64)
        let full = w.bytes()
        let p = try w.write(to: path("full.gguf"))
        XCTAssertNoThrow(try GGUFFile(path: p))
        let dataStart = w.dataStart
        var cuts = Array(0..<dataStart)
        cuts += [dataStart, dataStart + 1, dataStart + 11, dataStart + 64, dataStart + 100, full.count - 1]
        for cut in cuts {
            let p = try w.write(to: path("cut.gguf"), truncatedTo: cut)
            guard let e = assertOpenFails(p, []) else {
                XCTFail("no error when cut at \(cut) of \(full.count)")
                continue
            }
            let fitting = ["truncated", "empty", "more than the file holds", "impossible", "past the end", "not a GGUF"]
            XCTAssertTrue(fitting.contains { e.problem.contains($0) }, "cut at \(cut): \(e.problem)")
        }
    }

    func testTruncatedHeaderMessage() throws {
        let w = validWriter(version: 3, alignment: nil)
        try assertBroken(w, truncatedTo: 6, "truncated header", "version")
    }

    func testTensorDataPastTheEnd() throws {
        var w = W()
        w.tensors = [.init(name: "short", dims: [16], type: 0, data: W.f32Bytes([1, 2]))]
        try assertBroken(w, "short", "past the end")
        // An offset far beyond the file, and one whose data ends one byte too late.
        w.tensors = [.init(name: "far", dims: [4], type: 0, data: [], offset: 1 << 40)]
        try assertBroken(w, "far", "past the end")
        w.tensors = [.init(name: "ok", dims: [4], type: 0, data: W.f32Bytes([1, 2, 3, 4])),
                     .init(name: "last", dims: [4], type: 0, data: W.f32Bytes([1, 2, 3, 4]))]
        let p = try w.write(to: path("one-short.gguf"), truncatedTo: w.bytes().count - 1)
        assertOpenFails(p, ["last", "past the end"])
        // Offset near UInt64.max must not overflow.
        w.tensors = [.init(name: "wrap", dims: [4], type: 0, data: [], offset: UInt64.max - 31)]
        try assertBroken(w, "wrap")
    }

    func testAbsurdCounts() throws {
        var w = validWriter(version: 3, alignment: nil)
        w.tensorCount = 1 << 60
        try assertBroken(w, "tensor count", "impossible")
        w = validWriter(version: 3, alignment: nil)
        w.metadataCount = 1 << 60
        try assertBroken(w, "metadata count", "impossible")
        w.metadataCount = UInt64.max
        try assertBroken(w, "metadata count", "impossible")
        w = validWriter(version: 2, alignment: nil)
        w.metadata.append(.typed("big.array", type: 9, payload: W.le(UInt32(0)) + W.le(UInt64(1) << 60)))
        try assertBroken(w, "big.array", "impossible")
        w = W()
        w.metadata = [.typed("big.string.array", type: 9, payload: W.le(UInt32(8)) + W.le(UInt64.max))]
        try assertBroken(w, "big.string.array", "impossible")
    }

    func testAbsurdStringLengths() throws {
        var w = W()
        w.metadata = [.typed("s", type: 8, payload: W.le(UInt64(1) << 62) + Array("abc".utf8))]
        try assertBroken(w, "metadata 's'", "more than the file holds")
        w.metadata = [.raw(W.le(UInt64(1) << 62) + Array("key".utf8))]
        try assertBroken(w, "metadata key", "more than the file holds")
        w.metadata = [.typed("s", type: 8, payload: W.le(UInt64.max))]
        try assertBroken(w, "more than the file holds")
        w.metadata = []
        w.tensors = [.init(name: "t", dims: [1], type: 0, data: W.f32Bytes([1]))]
        var bytes = w.bytes()
        // Overwrite the tensor name length (right after the 24-byte header) with 2^62.
        bytes.replaceSubrange(24..<32, with: W.le(UInt64(1) << 62))
        try Data(bytes).write(to: URL(fileURLWithPath: path("name.gguf")))
        assertOpenFails(path("name.gguf"), ["tensor name", "more than the file holds"])
    }

    func testBoolByteOf7() throws {
        var w = W()
        w.metadata = [.typed("flag", type: 7, payload: [7])]
        try assertBroken(w, "flag", "bool byte 7")
        w.metadata = [.typed("flags", type: 9, payload: W.le(UInt32(7)) + W.le(UInt64(2)) + [1, 2])]
        try assertBroken(w, "flags", "bool byte 2")
    }

    func testUnknownValueTypes() throws {
        var w = W()
        w.metadata = [.typed("odd", type: 13, payload: [0, 0, 0, 0, 0, 0, 0, 0])]
        try assertBroken(w, "odd", "unknown value type 13")
        w.metadata = [.typed("odd", type: 0xFFFF_FFFF, payload: [])]
        try assertBroken(w, "odd", "unknown value type")
        w.metadata = [.typed("odd.array", type: 9, payload: W.le(UInt32(42)) + W.le(UInt64(1)) + [0])]
        try assertBroken(w, "odd.array", "unknown array element type 42")
    }

    func testArraysNestedTooDeeply() throws {
        var value: GGUFValue = .array([.uint8(1)])
        for _ in 0..<6 { value = .array([value]) }
        var w = W()
        w.metadata = [.value("deep", value)]
        try assertBroken(w, "deep", "nested too deeply")
    }

    func testDuplicateMetadataKey() throws {
        var w = W()
        w.metadata = [.value("general.name", .string("a")), .value("general.name", .string("b"))]
        try assertBroken(w, "general.name", "twice")
    }

    func testBadAlignment() throws {
        for bad: UInt32 in [0, 3, 48] {
            var w = validWriter(version: 3, alignment: nil)
            w.metadata.append(.value("general.alignment", .uint32(bad)))
            w.alignment = 32
            try assertBroken(w, "general.alignment", "power of two")
        }
        var w = validWriter(version: 3, alignment: nil)
        w.metadata.append(.value("general.alignment", .string("64")))
        w.alignment = 32
        try assertBroken(w, "general.alignment", "power of two")
    }

    func testDimensionCounts() throws {
        var w = W()
        w.tensors = [.init(name: "nine", dims: Array(repeating: 1, count: 9), type: 0, data: W.f32Bytes([1]))]
        try assertBroken(w, "nine", "9 dimensions")
        w.tensors = [.init(name: "none", dims: [], type: 0, data: W.f32Bytes([1]))]
        try assertBroken(w, "none", "0 dimensions")
        w.tensors = [.init(name: "liar", dims: [1], type: 0, data: W.f32Bytes([1]), dimensionCount: 0xFFFF_FFFF)]
        try assertBroken(w, "liar", "dimensions")
    }

    func testZeroDimension() throws {
        var w = W()
        w.tensors = [.init(name: "zero", dims: [4, 0], type: 0, data: W.f32Bytes([1, 2, 3, 4]))]
        try assertBroken(w, "zero", "impossible dimension 0")
    }

    func testShapeProductOverflowAndOversizedShapes() throws {
        var w = W()
        w.tensors = [.init(name: "overflow", dims: [1 << 32, 1 << 32, 1 << 32], type: 0, data: [])]
        try assertBroken(w, "overflow", "impossible")
        w.tensors = [.init(name: "overflow2", dims: [1 << 62, 4], type: 0, data: [])]
        try assertBroken(w, "overflow2", "impossible")
        w.tensors = [.init(name: "huge.dim", dims: [UInt64.max], type: 0, data: [])]
        try assertBroken(w, "huge.dim", "impossible")
        // No overflow in the element count, but the bytes (x4 for F32) overflow Int.
        w.tensors = [.init(name: "bytes.overflow", dims: [1 << 31, 1 << 31], type: 0, data: [])]
        try assertBroken(w, "bytes.overflow", "impossible")
        w.tensors = [.init(name: "big", dims: [1 << 40], type: 0, data: [])]
        try assertBroken(w, "big", "impossible")
    }

    func testUnknownGGMLType() throws {
        for id: UInt32 in [4, 5, 99, 0xFFFF_FFFF] {
            var w = W()
            w.tensors = [.init(name: "weird", dims: [32], type: id, data: [UInt8](repeating: 0, count: 128))]
            try assertBroken(w, "weird", "unknown ggml type id \(id)")
        }
    }

    func testRowsNotAMultipleOfTheBlock() throws {
        var w = W()
        w.tensors = [.init(name: "ragged", dims: [20, 2], type: 2, data: [UInt8](repeating: 0, count: 64))]
        try assertBroken(w, "ragged", "not a multiple", "Q4_0")
    }

    func testMisalignedOffset() throws {
        var w = W()
        w.tensors = [.init(name: "skew", dims: [2], type: 0, data: W.f32Bytes([1, 2]), offset: 4)]
        try assertBroken(w, "skew", "not aligned to 32")
        w.metadata = [.value("general.alignment", .uint32(64))]
        w.tensors = [.init(name: "skew64", dims: [2], type: 0, data: W.f32Bytes([1, 2]), offset: 32)]
        try assertBroken(w, "skew64", "not aligned to 64")
    }

    func testDuplicateTensorName() throws {
        var w = W()
        w.tensors = [.init(name: "twin", dims: [2], type: 0, data: W.f32Bytes([1, 2])),
                     .init(name: "twin", dims: [2], type: 0, data: W.f32Bytes([3, 4]))]
        try assertBroken(w, "twin", "appears twice")
    }

    // MARK: - dequantizers against hand-computed blocks

    /// Writes one tensor of `type` with `data` and decodes it through `GGUFFile.floats`.
    func decode(type: UInt32, dims: [UInt64], data: [UInt8]) throws -> [Float] {
        var w = W()
        w.tensors = [.init(name: "t", dims: dims, type: type, data: data)]
        let g = try GGUFFile(path: try w.write(to: path("decode-\(type).gguf")))
        let viaFile = try g.floats(g.tensors[0])
        let direct = try data.withUnsafeBytes { raw in
            try Dequantize.decode(raw.baseAddress!, type: g.tensors[0].type, count: viaFile.count,
                                  tensorName: "t", file: "x")
        }
        XCTAssertEqual(viaFile.map(\.bitPattern), direct.map(\.bitPattern))
        return viaFile
    }

    func assertBitsEqual(_ got: [Float], _ want: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() where g.bitPattern != w.bitPattern {
            XCTFail("element \(i): got \(g), want \(w)", file: file, line: line)
        }
    }

    func testQ8_0HandComputed() throws {
        // Block 1: d = fp16 0x3800 = 0.5; value = 0.5 * q.
        let q1: [Int8] = [-128, -127, -64, -3, -2, -1, 0, 1, 2, 3, 64, 126, 127, 10, 20, 30,
                          -10, -20, -30, 5, 7, 9, 11, 13, -5, -7, -9, -11, -13, 100, -100, 50]
        let want1: [Float] = [-64, -63.5, -32, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 32, 63, 63.5, 5, 10, 15,
                              -5, -10, -15, 2.5, 3.5, 4.5, 5.5, 6.5, -2.5, -3.5, -4.5, -5.5, -6.5, 50, -50, 25]
        // Block 2: d = fp16 0xC000 = -2.0; q = -16...15; value = -2 * q.
        let q2: [Int8] = (0..<32).map { Int8($0 - 16) }
        let want2: [Float] = [32, 30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2,
                              0, -2, -4, -6, -8, -10, -12, -14, -16, -18, -20, -22, -24, -26, -28, -30]
        let data: [UInt8] = [0x00, 0x38] + q1.map { UInt8(bitPattern: $0) }
            + [0x00, 0xC0] + q2.map { UInt8(bitPattern: $0) }
        XCTAssertEqual(data.count, 68)
        XCTAssertEqual(try decode(type: 8, dims: [64], data: data), want1 + want2)
    }

    func testQ4_0HandComputed() throws {
        // Block 1: d = fp16 0x3C00 = 1.0; byte j holds j in the low nibble and 15-j in the high
        // one, so elements 0-15 are j-8 and elements 16-31 are (15-j)-8.
        let qs1: [UInt8] = [0xF0, 0xE1, 0xD2, 0xC3, 0xB4, 0xA5, 0x96, 0x87,
                            0x78, 0x69, 0x5A, 0x4B, 0x3C, 0x2D, 0x1E, 0x0F]
        let want1: [Float] = [-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7,
                              7, 6, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8]
        // Block 2: d = fp16 0xC000 = -2.0; every byte 0x9F: low 15 -> -2*(15-8) = -14,
        // high 9 -> -2*(9-8) = -2.
        let qs2 = [UInt8](repeating: 0x9F, count: 16)
        let want2 = [Float](repeating: -14, count: 16) + [Float](repeating: -2, count: 16)
        let data: [UInt8] = [0x00, 0x3C] + qs1 + [0x00, 0xC0] + qs2
        XCTAssertEqual(data.count, 36)
        XCTAssertEqual(try decode(type: 2, dims: [32, 2], data: data), want1 + want2)
    }

    func testQ4_1HandComputed() throws {
        // Block 1: d = fp16 0x3800 = 0.5, m = fp16 0xC000 = -2.0; same nibble pattern as Q4_0:
        // elements 0-15 are 0.5*j - 2, elements 16-31 are 0.5*(15-j) - 2.
        let qs1: [UInt8] = [0xF0, 0xE1, 0xD2, 0xC3, 0xB4, 0xA5, 0x96, 0x87,
                            0x78, 0x69, 0x5A, 0x4B, 0x3C, 0x2D, 0x1E, 0x0F]
        let want1: [Float] = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5,
                              5.5, 5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5, 0, -0.5, -1, -1.5, -2]
        // Block 2: d = 1.0 (0x3C00), m = 0.5 (0x3800); every byte 0x31: low 1 -> 1.5, high 3 -> 3.5.
        let qs2 = [UInt8](repeating: 0x31, count: 16)
        let want2 = [Float](repeating: 1.5, count: 16) + [Float](repeating: 3.5, count: 16)
        let data: [UInt8] = [0x00, 0x38, 0x00, 0xC0] + qs1 + [0x00, 0x3C, 0x00, 0x38] + qs2
        XCTAssertEqual(data.count, 40)
        XCTAssertEqual(try decode(type: 3, dims: [64], data: data), want1 + want2)
    }

    func testF16HandComputed() throws {
        let bits: [UInt16] = [0x3C00, 0x3800, 0xC000, 0x0000, 0x8000, 0x7C00, 0xFC00,
                              0x3555, 0x7BFF, 0x0001, 0x0400, 0x4248]
        let want: [Float] = [1, 0.5, -2, 0, -0.0, .infinity, -.infinity,
                             0.333251953125, 65504, 5.9604644775390625e-08, 6.103515625e-05, 3.140625]
        assertBitsEqual(try decode(type: 1, dims: [12], data: W.u16Bytes(bits)), want)
        let nan = try decode(type: 1, dims: [1], data: W.u16Bytes([0x7E00]))
        XCTAssertTrue(nan[0].isNaN)
    }

    func testBF16HandComputed() throws {
        // bf16 is the top 16 bits of a float32.
        let bits: [UInt16] = [0x3F80, 0xC000, 0x4049, 0x7F80, 0x0001, 0x3F00, 0xBF40, 0x8000]
        let want: [Float] = [1, -2, 3.140625, .infinity, Float(sign: .plus, exponent: -133, significand: 1),
                             0.5, -0.75, -0.0]
        assertBitsEqual(try decode(type: 30, dims: [8], data: W.u16Bytes(bits)), want)
    }

    func testF32HandComputed() throws {
        let want: [Float] = [1.5, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -.infinity, 1e-3]
        assertBitsEqual(try decode(type: 0, dims: [3, 2], data: W.f32Bytes(want)), want)
        let data: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC1]  // 1.0, -10.0
        XCTAssertEqual(try decode(type: 0, dims: [2], data: data), [1, -10])
    }

    /// More blocks than one decoding chunk (4096 blocks), so the parallel split is exercised.
    func testQ8_0ManyBlocksAcrossChunks() throws {
        let blocks = 4096 * 2 + 5
        var data: [UInt8] = []
        var want: [Float] = []
        data.reserveCapacity(blocks * 34)
        for b in 0..<blocks {
            let scale: (bits: [UInt8], value: Float) = b % 2 == 0 ? ([0x00, 0x3C], 1) : ([0x00, 0xC0], -2)
            data += scale.bits
            for i in 0..<32 {
                let q = Int8(truncatingIfNeeded: b &+ i * 7)
                data.append(UInt8(bitPattern: q))
                want.append(scale.value * Float(q))
            }
        }
        XCTAssertEqual(try decode(type: 8, dims: [32, UInt64(blocks)], data: data), want)
    }

    func testQ4_1ManyBlocksAcrossChunks() throws {
        let blocks = 4096 + 3
        var data: [UInt8] = []
        var want: [Float] = []
        for b in 0..<blocks {
            data += [0x00, 0x38, 0x00, 0x3C]  // d = 0.5, m = 1
            let byte = UInt8(truncatingIfNeeded: b)
            data += [UInt8](repeating: byte, count: 16)
            want += [Float](repeating: 0.5 * Float(byte & 0x0F) + 1, count: 16)
            want += [Float](repeating: 0.5 * Float(byte >> 4) + 1, count: 16)
        }
        XCTAssertEqual(try decode(type: 3, dims: [UInt64(32 * blocks)], data: data), want)
    }
}
