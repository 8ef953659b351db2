import Foundation
import Runtime
import TestSupport
import XCTest

/// Inputs that once crashed a parser (found by the fuzz targets in Fuzz/, see RELIABILITY.md, or
/// while writing them), kept so they stay errors naming the file: each is written to a file and
/// read the way bip reads it.
final class HostileInputTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("hostile")
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A safetensors file: the 8-byte length, then the JSON header.
    func safetensors(_ header: String, dataBytes: Int = 0) throws -> URL {
        var bytes = Array(header.utf8)
        bytes += [UInt8](repeating: 0x20, count: (8 - bytes.count % 8) % 8)
        return try file("model.safetensors", withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init) + bytes
                        + [UInt8](repeating: 0, count: dataBytes))
    }

    /// A shape whose element count overflows (the product was taken when the tensor was read,
    /// and trapped).
    func testSafetensorsShapeWhoseProductOverflows() throws {
        let url = try safetensors(#"{"t":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,0]}}"#)
        XCTAssertThrowsError(try Safetensors.File(url: url)) { error in
            XCTAssertEqual(error as? FileError, FileError(url.path, "tensor 't' has an impossible shape [4611686018427387904, 8]"))
        }
    }

    func testSafetensorsNegativeDimension() throws {
        let url = try safetensors(#"{"t":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}"#, dataBytes: 16)
        XCTAssertThrowsError(try Safetensors.File(url: url)) { error in
            XCTAssertEqual(error as? FileError, FileError(url.path, "tensor 't' has an impossible shape [-1, -4]"))
        }
    }

    /// A shape whose byte count (not element count) overflows: refused when the tensor is read.
    func testSafetensorsByteCountThatOverflows() throws {
        let url = try safetensors(#"{"t":{"dtype":"F32","shape":[2305843009213693952,2],"data_offsets":[0,8]}}"#, dataBytes: 8)
        let file = try Safetensors.File(url: url)
        XCTAssertThrowsError(try file.matrix("t", shape: [2305843009213693952, 2])) { error in
            XCTAssertEqual((error as? FileError)?.file, url.path, "\(error)")
        }
    }
}
