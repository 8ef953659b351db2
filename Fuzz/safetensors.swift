import Foundation
import Runtime

/// A safetensors file: the header, then every tensor it lists read with its own shape.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    let url = FuzzInput.write(bytes, as: "model.safetensors")
    var file: Safetensors.File?
    FuzzInput.expectClearError(naming: url.path) { file = try Safetensors.File(url: url) }
    guard let file else { return 0 }
    // The names are the header's keys; the file parsed, so the header is a JSON object.
    let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try! JSONDecoder().decode([String: AnyEntry].self, from: Data(bytes[8..<(8 + length)]))
    for name in header.keys {
        guard let shape = file.shape(name) else { continue }
        FuzzInput.expectClearError(naming: url.path) { _ = try file.matrix(name, shape: shape) }
    }
    return 0
}

/// Any JSON value, skipped.
struct AnyEntry: Decodable {
    init(from decoder: any Decoder) throws {}
}
