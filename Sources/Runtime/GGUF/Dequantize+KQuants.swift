/// Decoding of ggml's 256-element "K" blocks (super-blocks of 8 or 16 sub-blocks).
///
/// - Q4_K (144 bytes): fp16 d, fp16 dmin, 12 bytes of packed 6-bit sub-block scales and mins
///   (see `scaleAndMin`), 128 bytes of nibbles. Eight sub-blocks of 32; value
///   `d*scale*q - dmin*min`. Bytes 32c..<32c+32 hold sub-block 2c in their low nibbles and
///   sub-block 2c+1 in their high nibbles.
/// - Q5_K (176 bytes): as Q4_K, with 32 bytes of fifth bits between the scales and the nibbles:
///   element l of sub-block s takes bit s of byte l (l in 0..<32).
/// - Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, fp16 d.
///   Two halves of 128; in a half, element 32g + l (g in 0..<4) has its low nibble in byte
///   l + 32(g % 2) of the half's 64 (low nibble for g < 2, high for g >= 2) and its high two bits at
///   bits 2g, 2g+1 of byte l of the half's 32; scale index 8*half + 2g + l/16; value `d*scale*(q-32)`.
/// - Q8_K (292 bytes): Float32 d, 256 int8, then 16 int16 sums (not needed to decode); value `d*q`.
extension Dequantize {
    /// Sub-block `j`'s 6-bit scale and min from the 12 packed bytes: sub-blocks 0-3 use the low 6 bits
    /// of bytes j and j+4; sub-blocks 4-7 take their low 4 bits from the nibbles of byte j+4 and their
    /// top 2 bits from the top bits of bytes j-4 (scale) and j (min).
    @inline(__always) static func scaleAndMin(_ j: Int, _ s: UnsafePointer<UInt8>) -> (scale: Float, min: Float) {
        if j < 4 { return (Float(s[j] & 63), Float(s[j + 4] & 63)) }
        return (Float((s[j + 4] & 0x0f) | (s[j - 4] >> 6) << 4), Float((s[j + 4] >> 4) | (s[j] >> 6) << 4))
    }

    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 144
            let d = half(block, 0), dmin = half(block, 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let nibbles = (block + 16).assumingMemoryBound(to: UInt8.self)
            for c in 0..<4 {
                let first = scaleAndMin(2 * c, scales), second = scaleAndMin(2 * c + 1, scales)
                let d1 = d * first.scale, m1 = dmin * first.min
                let d2 = d * second.scale, m2 = dmin * second.min
                let q = nibbles + 32 * c, out = dst + b * 256 + 64 * c
                for l in 0..<32 {
                    out[l] = d1 * Float(q[l] & 0x0f) - m1
                    out[l + 32] = d2 * Float(q[l] >> 4) - m2
                }
            }
        }
    }

    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 176
            let d = half(block, 0), dmin = half(block, 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let fifth = (block + 16).assumingMemoryBound(to: UInt8.self)
            let nibbles = (block + 48).assumingMemoryBound(to: UInt8.self)
            for c in 0..<4 {
                let first = scaleAndMin(2 * c, scales), second = scaleAndMin(2 * c + 1, scales)
                let d1 = d * first.scale, m1 = dmin * first.min
                let d2 = d * second.scale, m2 = dmin * second.min
                let q = nibbles + 32 * c, out = dst + b * 256 + 64 * c
                for l in 0..<32 {
                    let low = q[l] & 0x0f | ((fifth[l] >> (2 * c)) & 1) << 4
                    let high = q[l] >> 4 | ((fifth[l] >> (2 * c + 1)) & 1) << 4
                    out[l] = d1 * Float(low) - m1
                    out[l + 32] = d2 * Float(high) - m2
                }
            }
        }
    }

    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 210
            let d = half(block, 208)
            for h in 0..<2 {
                let low = (block + 64 * h).assumingMemoryBound(to: UInt8.self)
                let high = (block + 128 + 32 * h).assumingMemoryBound(to: UInt8.self)
                let scales = (block + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                let out = dst + b * 256 + 128 * h
                for l in 0..<32 {
                    let q0 = Int(low[l] & 0x0f | (high[l] & 3) << 4) - 32
                    let q1 = Int(low[l + 32] & 0x0f | ((high[l] >> 2) & 3) << 4) - 32
                    let q2 = Int(low[l] >> 4 | ((high[l] >> 4) & 3) << 4) - 32
                    let q3 = Int(low[l + 32] >> 4 | (high[l] >> 6) << 4) - 32
                    let s = l / 16
                    out[l] = d * Float(scales[s]) * Float(q0)
                    out[l + 32] = d * Float(scales[s + 2]) * Float(q1)
                    out[l + 64] = d * Float(scales[s + 4]) * Float(q2)
                    out[l + 96] = d * Float(scales[s + 6]) * Float(q3)
                }
            }
        }
    }

    static func q8_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let block = src + b * 292
            let d = Float(bitPattern: UInt32(littleEndian: block.loadUnaligned(as: UInt32.self)))
            let q = (block + 4).assumingMemoryBound(to: Int8.self)
            let out = dst + b * 256
            for i in 0..<256 { out[i] = d * Float(q[i]) }
        }
    }
}
