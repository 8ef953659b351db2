import Foundation
import Runtime

/// Writes GGUF files byte by byte for tests: well-formed ones, and deliberately broken ones
/// (every field can be overridden, metadata can be written as raw bytes, and the result can be
/// truncated anywhere).
///
/// Layout written (GGUF v2/v3, little-endian):
///   magic (4) | version u32 | tensor count u64 | metadata count u64
///   metadata: key (u64 length + bytes) | value type u32 | value
///   tensor infos: name | n_dims u32 | dims u64 x n | ggml type u32 | offset u64 (relative to data)
///   zero padding to `alignment` | tensor data (each tensor at its offset)
public struct GGUFWriterForTests {
    /// One metadata entry.
    public enum Entry {
        /// A well-formed key and value; the value type is taken from the `GGUFValue` case.
        case value(String, GGUFValue)
        /// A key, an arbitrary value type id and arbitrary value bytes (for broken values).
        case typed(String, type: UInt32, payload: [UInt8])
        /// Bytes written verbatim in place of a whole entry (key included).
        case raw([UInt8])
    }

    /// One tensor info and its data.
    public struct Tensor {
        public var name: String
        /// GGUF order: `dims[0]` is the innermost dimension.
        public var dims: [UInt64]
        /// ggml type id (0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0, 11 Q3_K, 12 Q4_K, 13 Q5_K, 14 Q6_K, 15 Q8_K, 30 BF16, ...).
        public var type: UInt32
        /// The bytes stored for the tensor (may be shorter or longer than its shape needs).
        public var data: [UInt8]
        /// Offset from the start of the data section; nil places the tensor after the previous
        /// one, aligned.
        public var offset: UInt64? = nil
        /// Overrides the written dimension count (the dims written are still `dims`).
        public var dimensionCount: UInt32? = nil

        public init(name: String, dims: [UInt64], type: UInt32, data: [UInt8], offset: UInt64? = nil, dimensionCount: UInt32? = nil) {
            self.name = name
            self.dims = dims
            self.type = type
            self.data = data
            self.offset = offset
            self.dimensionCount = dimensionCount
        }
    }

    public var magic: [UInt8] = Array("GGUF".utf8)
    public var version: UInt32 = 3
    public var tensorCount: UInt64? = nil      // nil: tensors.count
    public var metadataCount: UInt64? = nil    // nil: metadata.count
    public var metadata: [Entry] = []
    public var tensors: [Tensor] = []
    /// Alignment used for padding; nil: the `general.alignment` entry if there is one, else 32.
    public var alignment: Int? = nil

    public init() {}

    // MARK: value encoding (GGUFEncoding), plus the broken forms

    public static func typeID(_ value: GGUFValue) -> UInt32 { GGUFEncoding.typeID(value) }
    public static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { GGUFEncoding.littleEndian(v) }
    public static func string(_ s: String) -> [UInt8] { GGUFEncoding.string(s) }
    public static func payload(_ value: GGUFValue) -> [UInt8] { GGUFEncoding.payload(value) }

    public static func entryBytes(_ entry: Entry) -> [UInt8] {
        switch entry {
        case .value(let key, let value): return GGUFEncoding.entry(key, value)
        case .typed(let key, let type, let payload): return string(key) + le(type) + payload
        case .raw(let bytes): return bytes
        }
    }

    // MARK: layout

    public var effectiveAlignment: Int {
        if let alignment { return alignment }
        for case .value("general.alignment", let v) in metadata { if let a = v.int { return a } }
        return 32
    }

    public static func padded(_ n: Int, to alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Offsets (relative to the data section) at which each tensor is placed.
    public var placedOffsets: [UInt64] {
        var next = 0
        var out: [UInt64] = []
        for t in tensors {
            if let o = t.offset {
                out.append(o)
            } else {
                let o = Self.padded(next, to: effectiveAlignment)
                out.append(UInt64(o))
                next = o + t.data.count
            }
        }
        return out
    }

    /// Number of bytes before the data section (header, metadata, tensor infos, padding).
    public var dataStart: Int { Self.padded(headerBytes().count, to: effectiveAlignment) }

    public func headerBytes() -> [UInt8] {
        var out = magic
        out += Self.le(version)
        out += Self.le(tensorCount ?? UInt64(tensors.count))
        out += Self.le(metadataCount ?? UInt64(metadata.count))
        for entry in metadata { out += Self.entryBytes(entry) }
        for (t, offset) in zip(tensors, placedOffsets) {
            out += Self.string(t.name)
            out += Self.le(t.dimensionCount ?? UInt32(t.dims.count))
            for d in t.dims { out += Self.le(d) }
            out += Self.le(t.type)
            out += Self.le(offset)
        }
        return out
    }

    /// The whole file.
    public func bytes() -> [UInt8] {
        var out = headerBytes()
        out += [UInt8](repeating: 0, count: Self.padded(out.count, to: effectiveAlignment) - out.count)
        let start = out.count
        for (t, offset) in zip(tensors, placedOffsets) where !t.data.isEmpty {
            // Only offsets that fit in memory can be materialised; larger ones stay dangling.
            guard offset < UInt64(1 << 30) else { continue }
            let begin = start + Int(offset)
            if out.count < begin + t.data.count {
                out += [UInt8](repeating: 0, count: begin + t.data.count - out.count)
            }
            out.replaceSubrange(begin..<(begin + t.data.count), with: t.data)
        }
        return out
    }

    /// Writes `bytes` (or the first `truncatedTo` of them) to `path`; returns `path`.
    @discardableResult
    public func write(to path: String, truncatedTo: Int? = nil) throws -> String {
        let all = bytes()
        let data = truncatedTo.map { Array(all.prefix($0)) } ?? all
        try Data(data).write(to: URL(fileURLWithPath: path))
        return path
    }
}

// MARK: - building blocks for tensor data

extension GGUFWriterForTests {
    public static func f32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { le($0.bitPattern) } }
    public static func u16Bytes(_ values: [UInt16]) -> [UInt8] { values.flatMap { le($0) } }
}
