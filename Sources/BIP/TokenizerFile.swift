import Foundation
import Runtime

/// A tokenizer-only GGUF file (`tokenizer.gguf`): version 3, no tensors, the source model's
/// `tokenizer.*` metadata copied exactly, plus `general.architecture` and `general.type =
/// "tokenizer"`. `ByteLevelBPETokenizer(gguf:)` reads it like the model file it came from.
public enum TokenizerFile {
    public static let fileName = "tokenizer.gguf"

    /// Writes the tokenizer metadata of `source` to `url`.
    public static func write(from source: GGUFFile, to url: URL) throws {
        var entries = source.metadata.filter { $0.key.hasPrefix("tokenizer.") }
        guard !entries.isEmpty else { throw PruningError("\(source.path): no tokenizer.* metadata to copy") }
        entries["general.architecture"] = source.metadata["general.architecture"] ?? .string("llama")
        entries["general.type"] = .string("tokenizer")
        var out = Data("GGUF".utf8)
        append(UInt32(3), to: &out)
        append(UInt64(0), to: &out)
        append(UInt64(entries.count), to: &out)
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
            appendString(key, to: &out)
            append(typeID(value), to: &out)
            appendValue(value, to: &out)
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: (32 - out.count % 32) % 32))
        guard FileManager.default.createFile(atPath: url.path, contents: out) else {
            throw PruningError("\(url.path): cannot write the tokenizer file")
        }
    }

    private static func append<T: FixedWidthInteger>(_ v: T, to out: inout Data) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ s: String, to out: inout Data) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: Array(s.utf8))
    }

    private static func typeID(_ value: GGUFValue) -> UInt32 {
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

    private static func appendValue(_ value: GGUFValue, to out: inout Data) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            append(items.first.map(typeID) ?? 8, to: &out)
            append(UInt64(items.count), to: &out)
            for item in items { appendValue(item, to: &out) }
        }
    }
}
