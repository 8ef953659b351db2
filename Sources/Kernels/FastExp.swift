/// Vectorised exp for the hot loops (softmax, SiLU, log-softmax).
///
/// exp(x) = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r by a degree-6 polynomial
/// (Cephes' expf coefficients), relative error about 2e-7, i.e. within an ulp or two of libm.
/// Inputs below -87.3 give 0 and above 88.7 give +inf, as Float's exp does.
public enum FastExp {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        // Inputs outside [-87.34, 88.72] go through the arithmetic below as garbage (wrapping
        // integer operations, no traps) and are replaced at the end.
        // n = round(x·log2 e) by the 1.5·2^23 trick: adding it leaves n in the low mantissa bits.
        let magic = Vector(repeating: 12582912)
        let shifted = x * 1.442695040888963 + magic
        let n = shifted - magic
        // r = x - n·ln2, with ln2 split in two for exactness.
        var r = x - n * 0.693359375
        r = r + n * 2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * (r * r) + r + 1
        // 2^n from exponent bits, as 2^h · 2^(n-h) with h = n/2, so both factors stay normal for n in [-126, 128].
        let ni = unsafeBitCast(unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000, to: SIMD8<Int32>.self)
        let h = ni &>> 1
        let first = unsafeBitCast((h &+ 127) &<< 23, to: Vector.self)
        let second = unsafeBitCast((ni &- h &+ 127) &<< 23, to: Vector.self)
        var result = er * first * second
        result.replace(with: Vector(repeating: .infinity), where: x .> 88.72283)
        result.replace(with: 0, where: x .< -87.33654)
        return result
    }

    /// exp of one scalar, through the same polynomial (for loop tails).
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// `values[i] = exp(values[i] - shift)` for all i; returns the sum, accumulated in Double.
    @inline(__always)
    public static func expShifted(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Double {
        var i = 0
        var acc = Vector.zero
        var total = 0.0
        let s = Vector(repeating: shift)
        while i + 8 <= count {
            let raw = UnsafeRawPointer(values + i)
            let e = exp(raw.loadUnaligned(as: Vector.self) - s)
            UnsafeMutableRawPointer(values + i).storeBytes(of: e, as: Vector.self)
            acc += e
            i += 8
            if i & 1023 == 0 {
                total += Double(acc.sum())
                acc = .zero
            }
        }
        total += Double(acc.sum())
        while i < count {
            values[i] = exp(values[i] - shift)
            total += Double(values[i])
            i += 1
        }
        return total
    }
}
