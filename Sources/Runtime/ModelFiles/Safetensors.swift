import Foundation

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

    /// Writes `tensors` (in the given order) to `url`, every one as `dtype`, whole or not at all (`AtomicFile`).
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
        try AtomicFile.write(url) { file in
            var length = UInt64(json.count).littleEndian
            try file.write(Data(bytes: &length, count: 8))
            try file.write(json)
            for t in tensors {
                switch dtype {
                case .f32: try file.write(t.values.map { $0.bitPattern.littleEndian })
                case .f16: try file.write(t.values.map { Float16($0).bitPattern.littleEndian })
                }
            }
        }
    }

    /// A safetensors file: its header is read at once, each tensor is read from disk on request
    /// (straight into the result, so a loaded model is held once in memory, not once more as the
    /// file's bytes).
    public final class File {
        public let path: String
        public let metadata: [String: String]
        private let handle: FileHandle
        private let dataStart: Int
        private let entries: [String: (dtype: String, shape: [Int], begin: Int, end: Int)]

        public init(url: URL) throws {
            path = url.path
            guard let handle = FileHandle(forReadingAtPath: url.path),
                  let size = try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int else {
                throw FileError(url.path, "missing or unreadable")
            }
            self.handle = handle
            guard size >= 8, let prefix = try? handle.read(upToCount: 8), prefix.count == 8 else {
                throw FileError(path, "too short for a safetensors header")
            }
            let length = prefix.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            guard length >= 2, length <= size - 8, let headerBytes = try? handle.read(upToCount: length), headerBytes.count == length,
                  let header = try? JSONDecoder().decode([String: HeaderValue].self, from: headerBytes) else {
                throw FileError(path, "the safetensors header is not a JSON object of the stated length")
            }
            dataStart = 8 + length
            if case .metadata(let metadata) = header["__metadata__"] { self.metadata = metadata } else { metadata = [:] }
            var entries: [String: (String, [Int], Int, Int)] = [:]
            for (name, value) in header where name != "__metadata__" {
                guard case .tensor(let info) = value, info.dataOffsets.count == 2, info.dataOffsets[0] >= 0,
                      info.dataOffsets[0] <= info.dataOffsets[1], info.dataOffsets[1] <= size - dataStart else {
                    throw FileError(path, "tensor '\(name)' has a malformed header entry")
                }
                var elements = 1
                for d in info.shape {
                    let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                    guard d >= 0, !overflow else { throw FileError(path, "tensor '\(name)' has an impossible shape \(info.shape)") }
                    elements = product
                }
                entries[name] = (info.dtype, info.shape, info.dataOffsets[0], info.dataOffsets[1])
            }
            self.entries = entries
        }

        /// A value of the JSON header: a tensor's entry, the `__metadata__` strings, or neither.
        private enum HeaderValue: Decodable {
            struct Tensor: Decodable {
                let dtype: String
                let shape: [Int]
                let dataOffsets: [Int]

                enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
            }

            case tensor(Tensor), metadata([String: String]), malformed

            init(from decoder: any Decoder) throws {
                if let tensor = try? Tensor(from: decoder) {
                    self = .tensor(tensor)
                } else if let metadata = try? [String: String](from: decoder) {
                    self = .metadata(metadata)
                } else {
                    self = .malformed
                }
            }
        }

        deinit { try? handle.close() }

        public func shape(_ name: String) -> [Int]? { entries[name]?.shape }

        /// The tensor's values as Float32 (F32, F16 or BF16 on disk), checked against `shape`.
        public func floats(_ name: String, shape expected: [Int]) throws -> [Float] {
            try matrix(name, shape: expected).floats
        }

        /// The tensor as a matrix of `shape` (a vector is one row), keeping F16 and BF16 in their
        /// 2-byte form: read straight from the file into the matrix's storage, held once in memory.
        public func matrix(_ name: String, shape expected: [Int]) throws -> WeightMatrix {
            guard let e = entries[name] else { throw FileError(path, "missing tensor '\(name)'") }
            guard e.shape == expected else {
                throw FileError(path, "tensor '\(name)' has shape \(e.shape), expected \(expected)")
            }
            let count = expected.reduce(1, *)
            let rows = expected.count == 2 ? expected[0] : 1, columns = count / max(rows, 1)
            let element: WeightMatrix.Element
            switch e.dtype {
            case "F32": element = .float32
            case "F16": element = .float16
            case "BF16": element = .bfloat16
            default: throw FileError(path, "tensor '\(name)' has dtype \(e.dtype) (bip reads F32, F16, BF16)")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: element.byteCount)
            guard !overflow, e.end - e.begin == bytes else {
                throw FileError(path, "tensor '\(name)' holds \(e.end - e.begin) bytes, not \(count) elements of \(e.dtype)")
            }
            // The format is little-endian, as is every machine bip runs on.
            func read<T>(_ type: T.Type, zero: T) throws -> [T] {
                var out = [T](repeating: zero, count: count)
                let got = out.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, $0.count, off_t(dataStart + e.begin)) }
                guard got == e.end - e.begin else { throw FileError(path, "tensor '\(name)' could not be read (file truncated?)") }
                return out
            }
            if element == .float32 { return WeightMatrix(try read(Float.self, zero: 0), rows: rows, columns: columns) }
            return WeightMatrix(bits: try read(UInt16.self, zero: 0), element: element, rows: rows, columns: columns)
        }
    }
}
