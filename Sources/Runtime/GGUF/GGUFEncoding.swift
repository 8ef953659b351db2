/// GGUF's little-endian encoding of metadata, the inverse of what `GGUFFile` reads.
public enum GGUFEncoding {
    /// The GGUF value type id of `value` (0 uint8 … 12 float64).
    public static func typeID(_ value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    public static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    /// A GGUF string: u64 byte length, then the UTF-8 bytes.
    public static func string(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        return littleEndian(UInt64(utf8.count)) + utf8
    }

    /// The bytes of a value without its type id. An array takes its element type from its first
    /// element (an empty array is written as an array of uint8).
    public static func payload(_ value: GGUFValue) -> [UInt8] {
        switch value {
        case .uint8(let v): return littleEndian(v)
        case .int8(let v): return littleEndian(v)
        case .uint16(let v): return littleEndian(v)
        case .int16(let v): return littleEndian(v)
        case .uint32(let v): return littleEndian(v)
        case .int32(let v): return littleEndian(v)
        case .uint64(let v): return littleEndian(v)
        case .int64(let v): return littleEndian(v)
        case .float32(let v): return littleEndian(v.bitPattern)
        case .float64(let v): return littleEndian(v.bitPattern)
        case .bool(let v): return [v ? 1 : 0]
        case .string(let s): return string(s)
        case .array(let items):
            var out = littleEndian(items.first.map(typeID) ?? 0) + littleEndian(UInt64(items.count))
            for item in items { out += payload(item) }
            return out
        }
    }

    /// One metadata entry: key, value type id, value.
    public static func entry(_ key: String, _ value: GGUFValue) -> [UInt8] {
        string(key) + littleEndian(typeID(value)) + payload(value)
    }
}
