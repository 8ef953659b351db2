/// Where one tensor lives in a GGUF file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Dimensions as GGUF stores them: `dims[0]` is the innermost (contiguous) one.
    public let dims: [Int]
    public let type: GGMLType
    /// Byte offset of the tensor's data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Rows of the tensor read as a row-major matrix (the product of the outer dimensions).
    public var rows: Int { dims.dropFirst().reduce(1, *) }
    /// Columns of the tensor read as a row-major matrix (`dims[0]`).
    public var columns: Int { dims.first ?? 1 }
}

/// A GGUF (v2 or v3) model file, memory-mapped: its metadata and tensor directory, and
/// Float32 decoding of its tensors. Every count and offset is checked against the file's size
/// before it is used, so a damaged file is an error naming the file, never a crash.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    let file: MappedFile
    private let index: [String: Int]

    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        var reader = GGUFReader(file: file)
        let magic = try reader.bytes(4, what: "magic")
        guard magic == [0x47, 0x47, 0x55, 0x46] else {
            let shown = String(decoding: magic.map { (0x20..<0x7f).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            throw FileError(path, "not a GGUF file (it starts with '\(shown)', not 'GGUF')")
        }
        version = try reader.scalar(UInt32.self, what: "version")
        guard version == 2 || version == 3 else {
            throw FileError(path, "unsupported GGUF version \(version) (bip reads versions 2 and 3)")
        }
        let tensorCount = try reader.count(what: "tensor count", minimumBytesEach: 24)
        let metadataCount = try reader.count(what: "metadata count", minimumBytesEach: 13)

        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<metadataCount {
            let key = try reader.string(what: "metadata key")
            guard metadata[key] == nil else { throw FileError(path, "metadata '\(key)' appears twice") }
            let type = try reader.scalar(UInt32.self, what: "type of metadata '\(key)'")
            metadata[key] = try reader.value(type: type, what: "metadata '\(key)'", depth: 0)
        }
        self.metadata = metadata

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a <= 1 << 20, a & (a - 1) == 0 else {
                throw FileError(path, "general.alignment must be a power of two, found \(value)")
            }
            alignment = a
        }
        self.alignment = alignment

        struct RawInfo { let name: String; let dims: [Int]; let type: GGMLType; let offset: Int; let byteCount: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(min(tensorCount, 1 << 16))
        for _ in 0..<tensorCount {
            let name = try reader.string(what: "tensor name")
            let nDims = try reader.scalar(UInt32.self, what: "dimension count of tensor '\(name)'")
            guard (1...4).contains(nDims) else {
                throw FileError(path, "tensor '\(name)' has \(nDims) dimensions (1 to 4 allowed)")
            }
            var dims: [Int] = []
            var elements = 1
            for _ in 0..<nDims {
                let d = try reader.scalar(UInt64.self, what: "dimensions of tensor '\(name)'")
                guard d > 0, d <= UInt64(Int.max) else {
                    throw FileError(path, "tensor '\(name)' has an impossible dimension \(d)")
                }
                dims.append(Int(d))
                // Only overflow is checked here: how many elements fit in a byte depends on the
                // type (about 3 for Q2_K), so the size is bounded once the type is known.
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(d))
                guard !overflow else {
                    throw FileError(path, "tensor '\(name)' has an impossible shape \(dims)")
                }
                elements = product
            }
            let typeID = try reader.scalar(UInt32.self, what: "type of tensor '\(name)'")
            guard let type = GGMLType.known[typeID] else {
                throw FileError(path, "tensor '\(name)' has unknown ggml type id \(typeID)")
            }
            guard dims[0] % type.blockElements == 0 else {
                throw FileError(path, "tensor '\(name)' has rows of \(dims[0]) elements, not a multiple of the \(type) block size \(type.blockElements)")
            }
            let (byteCount, bytesOverflow) = (elements / type.blockElements).multipliedReportingOverflow(by: type.blockBytes)
            guard !bytesOverflow, byteCount <= file.size else {
                throw FileError(path, "tensor '\(name)' has an impossible shape \(dims) for \(type): it needs more bytes than the whole file (\(file.size) bytes)")
            }
            let offset = try reader.scalar(UInt64.self, what: "offset of tensor '\(name)'")
            guard offset <= UInt64(file.size) else {
                throw FileError(path, "tensor '\(name)' starts at offset \(offset), past the end of the file")
            }
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: Int(offset), byteCount: byteCount))
        }
        let dataStart = (reader.offset + alignment - 1) / alignment * alignment

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for r in raw {
            guard r.offset % alignment == 0 else {
                throw FileError(path, "tensor '\(r.name)' has offset \(r.offset), not aligned to \(alignment)")
            }
            let byteCount = r.byteCount
            let start = dataStart + r.offset
            guard start <= file.size, byteCount <= file.size - start else {
                throw FileError(path, "tensor '\(r.name)' (\(byteCount) bytes at byte \(start)) runs past the end of the file (\(file.size) bytes): the file is truncated or damaged")
            }
            guard index[r.name] == nil else { throw FileError(path, "tensor '\(r.name)' appears twice") }
            index[r.name] = tensors.count
            tensors.append(GGUFTensorInfo(name: r.name, dims: r.dims, type: r.type, fileOffset: start, byteCount: byteCount))
        }
        self.tensors = tensors
        self.index = index
    }

    public func tensor(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The named tensor, or an error naming the file and the missing tensor.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(name) else { throw FileError(path, "missing tensor '\(name)'") }
        return info
    }

    /// The tensor's elements decoded to Float32, in storage order.
    public func floats(_ info: GGUFTensorInfo) throws -> [Float] {
        try Dequantize.decode(file.bytes + info.fileOffset, type: info.type, count: info.elementCount,
                              tensorName: info.name, file: path)
    }

    /// An integer metadata value, or an error naming the key.
    public func requireInt(_ key: String) throws -> Int {
        guard let v = metadata[key] else { throw FileError(path, "missing metadata '\(key)'") }
        guard let i = v.int else { throw FileError(path, "metadata '\(key)' should be an integer, found \(v)") }
        return i
    }

    /// A string metadata value, or an error naming the key.
    public func requireString(_ key: String) throws -> String {
        guard let v = metadata[key] else { throw FileError(path, "missing metadata '\(key)'") }
        guard let s = v.string else { throw FileError(path, "metadata '\(key)' should be a string, found \(v)") }
        return s
    }
}

/// A bounds-checked cursor over the mapped bytes of a GGUF header.
struct GGUFReader {
    let file: MappedFile
    var offset = 0

    init(file: MappedFile) { self.file = file }

    private func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= file.size - offset else {
            throw FileError(file.path, "truncated header: \(what) at byte \(offset) needs \(n) bytes but the file ends at \(file.size)")
        }
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type, what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        let v = T(littleEndian: file.bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func bytes(_ n: Int, what: String) throws -> [UInt8] {
        try need(n, what)
        let out = Array(UnsafeRawBufferPointer(start: file.bytes + offset, count: n))
        offset += n
        return out
    }

    /// A 64-bit count, refused when even `minimumBytesEach` bytes per item would not fit in the file.
    mutating func count(what: String, minimumBytesEach: Int) throws -> Int {
        let n = try scalar(UInt64.self, what: what)
        let remaining = UInt64(file.size - offset)
        guard n <= remaining / UInt64(max(1, minimumBytesEach)) else {
            throw FileError(file.path, "\(what) \(n) is impossible for a file of \(file.size) bytes")
        }
        return Int(n)
    }

    mutating func string(what: String) throws -> String {
        let n = try scalar(UInt64.self, what: "length of \(what)")
        guard n <= UInt64(file.size - offset) else {
            throw FileError(file.path, "\(what) at byte \(offset - 8) claims \(n) bytes, more than the file holds")
        }
        let buffer = UnsafeRawBufferPointer(start: file.bytes + offset, count: Int(n))
        offset += Int(n)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Smallest encoded size of one value of each metadata type, to bound array counts.
    private static let minimumValueBytes: [UInt32: Int] = [
        0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8,
    ]

    mutating func value(type: UInt32, what: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try scalar(UInt8.self, what: what))
        case 1: return .int8(try scalar(Int8.self, what: what))
        case 2: return .uint16(try scalar(UInt16.self, what: what))
        case 3: return .int16(try scalar(Int16.self, what: what))
        case 4: return .uint32(try scalar(UInt32.self, what: what))
        case 5: return .int32(try scalar(Int32.self, what: what))
        case 6: return .float32(Float(bitPattern: try scalar(UInt32.self, what: what)))
        case 7:
            let b = try scalar(UInt8.self, what: what)
            guard b <= 1 else { throw FileError(file.path, "\(what): bool byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case 8: return .string(try string(what: what))
        case 9:
            guard depth < 4 else { throw FileError(file.path, "\(what): arrays nested too deeply") }
            let elementType = try scalar(UInt32.self, what: "element type of \(what)")
            guard let minimum = Self.minimumValueBytes[elementType] else {
                throw FileError(file.path, "\(what): unknown array element type \(elementType)")
            }
            let n = try count(what: "element count of \(what)", minimumBytesEach: minimum)
            var items: [GGUFValue] = []
            items.reserveCapacity(min(n, 1 << 16))
            for _ in 0..<n { items.append(try value(type: elementType, what: what, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try scalar(UInt64.self, what: what))
        case 11: return .int64(try scalar(Int64.self, what: what))
        case 12: return .float64(Double(bitPattern: try scalar(UInt64.self, what: what)))
        default: throw FileError(file.path, "\(what) has unknown value type \(type)")
        }
    }
}
