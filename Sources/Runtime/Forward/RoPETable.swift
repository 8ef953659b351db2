import Foundation
import Kernels

/// Rotary position embedding in the rotate-half layout: dimension i of a head is paired with
/// i + headDim/2 and rotated by pos · base^(-2i/headDim). Angles are computed in Double and the
/// cos/sin table grows with the longest position seen. The backward pass rotates gradients back
/// (`inverse`), the transpose of the rotation.
public struct RoPETable {
    public let headDim: Int
    public let base: Double
    private(set) var cos: [Float] = []   // [positions, headDim/2]
    private(set) var sin: [Float] = []
    private(set) var positions = 0

    public init(headDim: Int, base: Double) {
        self.headDim = headDim
        self.base = base
    }

    public mutating func ensure(positions needed: Int) {
        guard needed > positions else { return }
        let count = max(needed, 2 * positions, 256)
        let half = headDim / 2
        cos = [Float](repeating: 0, count: count * half)
        sin = [Float](repeating: 0, count: count * half)
        for p in 0..<count {
            for i in 0..<half {
                let angle = Double(p) * Foundation.pow(base, -2 * Double(i) / Double(headDim))
                cos[p * half + i] = Float(Foundation.cos(angle))
                sin[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        positions = count
    }

    /// Rotates the first `heads` heads of every row (the query heads, then the key heads) by each
    /// row's position, or back by it when `inverse`.
    public func apply(_ data: UnsafeMutablePointer<Float>, rowStride: Int, heads: Int, positions rowPositions: [Int],
                      inverse: Bool = false) {
        let direction: Float = inverse ? -1 : 1
        let half = headDim / 2, hd = headDim
        cos.withUnsafeBufferPointer { cosTable in
            sin.withUnsafeBufferPointer { sinTable in
                Parallel.forRanges(rowPositions.count, minimumPerRange: 16) { range in
                    for r in range {
                        let c = cosTable.baseAddress! + rowPositions[r] * half
                        let s = sinTable.baseAddress! + rowPositions[r] * half
                        for h in 0..<heads {
                            let v = data + r * rowStride + h * hd
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                let sine = direction * s[i]
                                v[i] = a * c[i] - b * sine
                                v[i + half] = b * c[i] + a * sine
                            }
                        }
                    }
                }
            }
        }
    }
}
