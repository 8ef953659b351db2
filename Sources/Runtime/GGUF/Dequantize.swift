import Kernels

/// Decoding of ggml tensor storage to Float32.
///
/// Block layouts (ggml) of the 32-element types: Q8_0 = fp16 scale d + 32 int8, value d*q.
/// Q4_0 = fp16 d + 16 bytes, value d*(q-8). Q4_1 = fp16 d, fp16 m + 16 bytes, value d*q+m.
/// Q5_0 = fp16 d, 32-bit qh, 16 bytes, value d*(q-16). Q5_1 = fp16 d, fp16 m, qh, 16 bytes,
/// value d*q+m. In the 4- and 5-bit types the low nibbles of the 16 bytes are elements 0-15 of
/// the block and the high nibbles elements 16-31; bit i of the little-endian qh is the fifth bit
/// of element i. The 256-element K types are in `Dequantize+KQuants.swift`.
public enum Dequantize {
    /// The types `decode` handles.
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1,
                                               .q4_K, .q5_K, .q6_K, .q8_K]

    public static func decode(_ source: UnsafeRawPointer, type: GGMLType, count: Int,
                              tensorName: String, file: String) throws -> [Float] {
        let decodeBlocks: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        switch type {
        case .f32: decodeBlocks = f32
        case .f16: decodeBlocks = f16
        case .bf16: decodeBlocks = bf16
        case .q8_0: decodeBlocks = q8_0
        case .q4_0: decodeBlocks = q4_0
        case .q4_1: decodeBlocks = q4_1
        case .q5_0: decodeBlocks = q5_0
        case .q5_1: decodeBlocks = q5_1
        case .q4_K: decodeBlocks = q4_K
        case .q5_K: decodeBlocks = q5_K
        case .q6_K: decodeBlocks = q6_K
        case .q8_K: decodeBlocks = q8_K
        default:
            let names = supported.map(\.name).joined(separator: ", ")
            throw FileError(file, "tensor '\(tensorName)' is stored as \(type), which bip cannot decode (supported: \(names))")
        }
        let blocks = count / type.blockElements
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dst in
            let base = dst.baseAddress!
            let chunk = 4096
            Parallel.forEach((blocks + chunk - 1) / chunk) { c in
                let first = c * chunk
                let n = min(chunk, blocks - first)
                decodeBlocks(source + first * type.blockBytes, base + first * type.blockElements, n)
            }
        }
        return out
    }

    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    static func f32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
    }

    static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = half(src, 2 * i) }
    }

    static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            dst[i] = Float(bitPattern: UInt32(bits) << 16)
        }
    }

    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 34
            let d = half(block, 0)
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let out = dst + b * 32
            for i in 0..<32 { out[i] = d * Float(q[i]) }
        }
    }

    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 18
            let d = half(block, 0)
            let q = (block + 2).assumingMemoryBound(to: UInt8.self)
            let out = dst + b * 32
            for i in 0..<16 {
                out[i] = d * Float(Int(q[i] & 0x0f) - 8)
                out[i + 16] = d * Float(Int(q[i] >> 4) - 8)
            }
        }
    }

    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 20
            let d = half(block, 0)
            let m = half(block, 2)
            let q = (block + 4).assumingMemoryBound(to: UInt8.self)
            let out = dst + b * 32
            for i in 0..<16 {
                out[i] = d * Float(q[i] & 0x0f) + m
                out[i + 16] = d * Float(q[i] >> 4) + m
            }
        }
    }

    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 22
            let d = half(block, 0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let q = (block + 6).assumingMemoryBound(to: UInt8.self)
            let out = dst + b * 32
            for i in 0..<16 {
                let low = Int(q[i] & 0x0f) | Int((qh >> UInt32(i)) & 1) << 4
                let high = Int(q[i] >> 4) | Int((qh >> UInt32(i + 16)) & 1) << 4
                out[i] = d * Float(low - 16)
                out[i + 16] = d * Float(high - 16)
            }
        }
    }

    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 24
            let d = half(block, 0)
            let m = half(block, 2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let q = (block + 8).assumingMemoryBound(to: UInt8.self)
            let out = dst + b * 32
            for i in 0..<16 {
                let low = Int(q[i] & 0x0f) | Int((qh >> UInt32(i)) & 1) << 4
                let high = Int(q[i] >> 4) | Int((qh >> UInt32(i + 16)) & 1) << 4
                out[i] = d * Float(low) + m
                out[i + 16] = d * Float(high) + m
            }
        }
    }
}
