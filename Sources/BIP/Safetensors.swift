import Foundation
import Runtime

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}` padded with
/// spaces to a multiple of 8 bytes, then the raw little-endian tensor data.
public enum Safetensors {
    /// Element type of a written tensor.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16"

        var byteCount: Int { self == .f32 ? 4 : 2 }
    }

    /// One named tensor to write: Float32 values and their shape.
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `tensors` (in the given order) to `url`, every one as `dtype`.
    public static func write(_ tensors: [Tensor], dtype: DType, metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * dtype.byteCount
            header[t.name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw ModelFileError(url.path, "cannot open for writing")
        }
        defer { try? handle.close() }
        var length = UInt64(json.count).littleEndian
        try handle.write(contentsOf: Data(bytes: &length, count: 8))
        try handle.write(contentsOf: json)
        for t in tensors {
            switch dtype {
            case .f32:
                try t.values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            case .f16:
                try t.values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            }
        }
    }

    /// A safetensors file, memory-mapped; tensors are decoded to Float32 on request. Every problem
    /// is a `ModelFileError` naming the file.
    public struct File {
        public let path: String
        public let metadata: [String: String]
        private let data: Data
        private let dataStart: Int
        private let entries: [String: (dtype: String, shape: [Int], begin: Int, end: Int)]

        public init(url: URL) throws {
            path = url.path
            guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
                throw ModelFileError(url.path, "missing or unreadable")
            }
            self.data = data
            guard data.count >= 8 else { throw ModelFileError(path, "too short for a safetensors header") }
            let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            guard length >= 2, length <= data.count - 8,
                  let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any] else {
                throw ModelFileError(path, "the safetensors header is not a JSON object of the stated length")
            }
            dataStart = 8 + length
            metadata = header["__metadata__"] as? [String: String] ?? [:]
            var entries: [String: (String, [Int], Int, Int)] = [:]
            for (name, value) in header where name != "__metadata__" {
                guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                      let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2,
                      offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= data.count - dataStart else {
                    throw ModelFileError(path, "tensor '\(name)' has a malformed header entry")
                }
                entries[name] = (dtype, shape, offsets[0], offsets[1])
            }
            self.entries = entries
        }

        public func shape(_ name: String) -> [Int]? { entries[name]?.shape }

        /// The tensor's values as Float32 (F32, F16 or BF16 on disk), checked against `shape`.
        public func floats(_ name: String, shape expected: [Int]) throws -> [Float] {
            guard let e = entries[name] else { throw ModelFileError(path, "missing tensor '\(name)'") }
            guard e.shape == expected else {
                throw ModelFileError(path, "tensor '\(name)' has shape \(e.shape), expected \(expected)")
            }
            let count = expected.reduce(1, *)
            let size: Int
            switch e.dtype {
            case "F32": size = 4
            case "F16", "BF16": size = 2
            default: throw ModelFileError(path, "tensor '\(name)' has dtype \(e.dtype) (bip reads F32, F16, BF16)")
            }
            guard e.end - e.begin == count * size else {
                throw ModelFileError(path, "tensor '\(name)' holds \(e.end - e.begin) bytes, not \(count * size)")
            }
            return data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                switch e.dtype {
                case "F32":
                    return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                case "F16":
                    return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
                default:
                    return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
                }
            }
        }
    }
}
