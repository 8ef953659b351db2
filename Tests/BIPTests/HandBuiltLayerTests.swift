@testable import BIP
import Foundation
import Runtime
import XCTest

/// Every method's scores on a tiny hand-built layer, against numbers worked out by hand from the
/// formulas of docs/pruning-methods.md, "Scores" (not from the code).
///
/// The layer: hidden d = 4, 2 query heads of dh = 2 sharing 1 KV head, FFN width 3. Weights are
/// small integers and halves (exact in Float). Statistics over N = 5 tokens, made up.
final class HandBuiltLayerTests: XCTestCase {
    // [out, in] row-major, as in HF.
    static let q: [[Float]] = [[1, 0, 0, -1],      // head 0: rows 0, 1
                               [0, 2, 0, 0],
                               [1, 1, -1, 0],      // head 1: rows 2, 3
                               [0, 0, 3, 1]]
    static let o: [[Float]] = [[1, -2, 0, 1],      // columns 0, 1: head 0; columns 2, 3: head 1
                               [0, 1, 3, -1],
                               [2, 0, -1, 0.5],
                               [-1, 0, 0, 2]]
    static let gate: [[Float]] = [[0, 1, 1, 0],
                                  [-1, 0, 0.5, 1],
                                  [1, 1, 0, -1]]
    static let up: [[Float]] = [[1, 0, -1, 2],
                                [0.5, 1, 0, -1],
                                [0, -2, 1, 0]]
    static let down: [[Float]] = [[1, -1, 0.5],
                                  [0, 2, -1],
                                  [-2, 1, 0],
                                  [1, 3, 1]]
    static let g2: [Float] = [1, -2, 0.5, 1]

    static func linear(_ rows: [[Float]]) -> Linear {
        Linear(weight: rows.flatMap { $0 }, outFeatures: rows.count, inFeatures: rows[0].count)
    }

    static func layer() -> DecoderLayer {
        DecoderLayer(attentionNorm: [1, 1, 1, 1], q: linear(q),
                     k: linear([[1, 0, 1, 0], [0, 1, 0, -1]]), v: linear([[0, 1, 1, 0], [2, 0, 0, 1]]),
                     output: linear(o), ffnNorm: g2, gate: linear(gate), up: linear(up), down: linear(down),
                     kvHeadOfQueryHead: [0, 0], headDim: 2)
    }

    /// N = 5 tokens.
    ///   A (input of o_proj, 4 columns): Σ|x| = 2.5, 5, 1.25, 3.75   Σx = 1, -2, 0.5, 0   Σx² = 4, 9, 1, 4
    ///   Z (input of down_proj, 3 channels): Σ|x| = 5, 2.5, 10      Σx = 3, 0, -5         Σx² = 9, 4, 25
    ///   Σ_t rms(H_t) = 2.5, so rbar = 0.5.
    static func statistics() -> LayerStatistics {
        var s = LayerStatistics(attentionWidth: 4, ffnWidth: 3)
        s.aSumAbs = [2.5, 5, 1.25, 3.75]
        s.aSum = [1, -2, 0.5, 0]
        s.aSumSquares = [4, 9, 1, 4]
        s.zSumAbs = [5, 2.5, 10]
        s.zSum = [3, 0, -5]
        s.zSumSquares = [9, 4, 25]
        s.hRMSSum = 2.5
        s.tokens = 5
        return s
    }

    func scores(_ name: String) throws -> UnitScores {
        try ImportanceMethods.scores(name, layer: Self.layer(), index: 0, statistics: Self.statistics())
    }

    func assertClose(_ actual: [Double], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a, e, accuracy: 1e-12 * max(1, abs(e)), "\(what)[\(i)]", file: file, line: line)
        }
    }

    func testTheLayerIsWhatTheTestThinks() {
        let layer = Self.layer()
        XCTAssertEqual(layer.queryHeads, 2)
        XCTAssertEqual(layer.kvHeads, 1)
        XCTAssertEqual(layer.ffnWidth, 3)
        XCTAssertEqual(layer.hiddenSize, 4)
        XCTAssertEqual(layer.q.weight.floats, Self.q.flatMap { $0 })
        XCTAssertEqual(layer.gate.weight.floats, Self.gate.flatMap { $0 })
        XCTAssertEqual(layer.up.weight.floats, Self.up.flatMap { $0 })
    }

    /// LLM-BIP, all four variants.
    ///
    ///   aH = Σ|A| / N = 2.5/5, 5/5, 1.25/5, 3.75/5 = 0.5, 1, 0.25, 0.75
    ///   aF = Σ|Z| / N = 5/5, 2.5/5, 10/5          = 1, 0.5, 2
    ///   c  = column l1 of down: |1|+|0|+|-2|+|1| = 4;  |-1|+|2|+|1|+|3| = 7;  |0.5|+|-1|+|0|+|1| = 2.5
    ///   sF = aF * c = 1*4, 0.5*7, 2*2.5 = 4, 3.5, 5                    (every variant)
    ///
    ///   |up|ᵀc, k = 0..3:  k0: 1*4 + 0.5*7 + 0*2.5 = 7.5     k1: 0*4 + 1*7 + 2*2.5 = 12
    ///                      k2: 1*4 + 0*7 + 1*2.5 = 6.5       k3: 2*4 + 1*7 + 0*2.5 = 15
    ///   |gate|ᵀc:          k0: 0*4 + 1*7 + 1*2.5 = 9.5       k1: 1*4 + 0*7 + 1*2.5 = 6.5
    ///                      k2: 1*4 + 0.5*7 + 0*2.5 = 7.5     k3: 0*4 + 1*7 + 1*2.5 = 9.5
    ///   |o| columns (|o[k, j]| for k = 0..3):  j0: 1, 0, 2, 1   j1: 2, 1, 0, 0   j2: 0, 3, 1, 0   j3: 1, 1, 0.5, 2
    func testBIP() throws {
        let channels = [4, 3.5, 5.0]

        // bip: r = 1 + |up|ᵀc = 8.5, 13, 7.5, 16
        //   Σ_k |o[k,j]| r[k]: j0 = 8.5 + 2*7.5 + 16 = 39.5;  j1 = 2*8.5 + 13 = 30
        //                      j2 = 3*13 + 7.5 = 46.5;        j3 = 8.5 + 13 + 0.5*7.5 + 2*16 = 57.25
        //   sH = aH * that = 0.5*39.5, 1*30, 0.25*46.5, 0.75*57.25 = 19.75, 30, 11.625, 42.9375
        //   heads: 19.75 + 30 = 49.75;  11.625 + 42.9375 = 54.5625
        let bip = try scores("bip")
        assertClose(bip.heads, [49.75, 54.5625], "bip heads")
        assertClose(bip.channels, channels, "bip channels")

        // bip-local: r = 1, so Σ_k |o[k,j]| = column l1 of o = 4, 3, 4, 4.5
        //   sH = 0.5*4, 1*3, 0.25*4, 0.75*4.5 = 2, 3, 1, 3.375;  heads: 5, 4.375
        let local = try scores("bip-local")
        assertClose(local.heads, [5, 4.375], "bip-local heads")
        assertClose(local.channels, channels, "bip-local channels")

        // bip-gate: r = 1 + |up|ᵀc + |gate|ᵀc = 1+7.5+9.5, 1+12+6.5, 1+6.5+7.5, 1+15+9.5 = 18, 19.5, 15, 25.5
        //   Σ_k |o[k,j]| r[k]: j0 = 18 + 2*15 + 25.5 = 73.5;  j1 = 2*18 + 19.5 = 55.5
        //                      j2 = 3*19.5 + 15 = 73.5;       j3 = 18 + 19.5 + 0.5*15 + 2*25.5 = 96
        //   sH = 0.5*73.5, 1*55.5, 0.25*73.5, 0.75*96 = 36.75, 55.5, 18.375, 72;  heads: 92.25, 90.375
        let gate = try scores("bip-gate")
        assertClose(gate.heads, [92.25, 90.375], "bip-gate heads")
        assertClose(gate.channels, channels, "bip-gate channels")

        // bip-norm: r = 1 + |g2[k]| / rbar * (|up|ᵀc)[k], |g2| / 0.5 = 2, 4, 1, 2
        //   r = 1 + 2*7.5, 1 + 4*12, 1 + 1*6.5, 1 + 2*15 = 16, 49, 7.5, 31
        //   Σ_k |o[k,j]| r[k]: j0 = 16 + 2*7.5 + 31 = 62;  j1 = 2*16 + 49 = 81
        //                      j2 = 3*49 + 7.5 = 154.5;    j3 = 16 + 49 + 0.5*7.5 + 2*31 = 130.75
        //   sH = 0.5*62, 1*81, 0.25*154.5, 0.75*130.75 = 31, 81, 38.625, 98.0625;  heads: 112, 136.6875
        let norm = try scores("bip-norm")
        assertClose(norm.heads, [112, 136.6875], "bip-norm heads")
        assertClose(norm.channels, channels, "bip-norm channels")
    }

    /// Wanda-sp: channel j of a projection's input scores (1/out) Σ_i |W[i,j]| * sqrt(Σ_t X[t,j]²).
    ///   o_proj (out 4): column l1 4, 3, 4, 4.5; ||A_j|| = √4, √9, √1, √4 = 2, 3, 1, 2
    ///     4/4*2, 3/4*3, 4/4*1, 4.5/4*2 = 2, 2.25, 1, 2.25;  heads: 2 + 2.25 = 4.25;  1 + 2.25 = 3.25
    ///   down_proj (out 4): c = 4, 7, 2.5; ||Z_m|| = √9, √4, √25 = 3, 2, 5
    ///     4/4*3, 7/4*2, 2.5/4*5 = 3, 3.5, 3.125
    func testWandaSP() throws {
        let s = try scores("wanda-sp")
        assertClose(s.heads, [4.25, 3.25], "wanda-sp heads")
        assertClose(s.channels, [3, 3.5, 3.125], "wanda-sp channels")
    }

    /// FLAP: V_j = (Σx² - (Σx)²/N) / (N-1);  raw o_proj column = (V_j * Σ_k o[k,j]²)²;  channel = V_m * Σ_n down[n,m]².
    ///   V(A) = (4 - 1/5)/4, (9 - 4/5)/4, (1 - 0.25/5)/4, (4 - 0)/4 = 0.95, 2.05, 0.2375, 1
    ///   Σ o² per column: 1+0+4+1 = 6;  4+1+0+0 = 5;  0+9+1+0 = 10;  1+1+0.25+4 = 6.25
    ///   raw columns: (0.95*6)² = 5.7² = 32.49;  (2.05*5)² = 10.25² = 105.0625;  (0.2375*10)² = 2.375² = 5.640625;  (1*6.25)² = 39.0625
    ///   mean = (32.49 + 105.0625 + 5.640625 + 39.0625)/4 = 182.255625/4 = 45.56390625
    ///   deviations: -13.07390625, 59.49859375, -39.92328125, -6.50140625
    ///   s² = (13.07390625² + 59.49859375² + 39.92328125² + 6.50140625²)/3
    ///      = (170.92702 + 3540.08266 + 1593.86839 + 42.26828)/3 = 5347.14635/3 = 1782.38212,  s = 42.21827
    ///   heads: mean of the two standardized columns: (d0 + d1)/(2s), (d2 + d3)/(2s)
    ///          d0 + d1 = 46.4246875,  d2 + d3 = -46.4246875  ->  ±46.4246875/(2*42.21827) = ±0.549818
    ///   V(Z) = (9 - 9/5)/4, (4 - 0)/4, (25 - 25/5)/4 = 1.8, 1, 5
    ///   Σ down² per column: 1+0+4+1 = 6;  1+4+1+9 = 15;  0.25+1+0+1 = 2.25
    ///   raw channels: 1.8*6, 1*15, 5*2.25 = 10.8, 15, 11.25;  mean = 37.05/3 = 12.35
    ///   deviations: -1.55, 2.65, -1.1;  s² = (2.4025 + 7.0225 + 1.21)/2 = 10.635/2 = 5.3175,  s = 2.305971
    ///   standardized: -1.55/s, 2.65/s, -1.1/s = -0.672168, 1.149191, -0.477023
    func testFLAP() throws {
        let s = try scores("flap")
        let headS = ((13.07390625 * 13.07390625 + 59.49859375 * 59.49859375 + 39.92328125 * 39.92328125
                      + 6.50140625 * 6.50140625) / 3).squareRoot()
        assertClose(s.heads, [46.4246875 / 2 / headS, -46.4246875 / 2 / headS], "flap heads")
        let channelS = sqrt(5.3175)
        assertClose(s.channels, [-1.55 / channelS, 2.65 / channelS, -1.1 / channelS], "flap channels")
        // The numbers, to the digits worked out above.
        XCTAssertEqual(headS, 42.21827, accuracy: 1e-5)
        XCTAssertEqual(channelS, 2.305971, accuracy: 1e-6)
        assertClose(s.heads.map { ($0 * 1e6).rounded() / 1e6 }, [0.549818, -0.549818], "flap heads, 6 decimals")
        assertClose(s.channels.map { ($0 * 1e6).rounded() / 1e6 }, [-0.672168, 1.149191, -0.477023], "flap channels, 6 decimals")
    }

    /// Magnitude: the norm of all of a unit's weights.
    ///   head 0 = q rows 0, 1 + o columns 0, 1;  head 1 = q rows 2, 3 + o columns 2, 3
    ///     l1: head 0: (1+1) + 2 + (4 + 3) = 11;   head 1: (1+1+1) + (3+1) + (4 + 4.5) = 15.5
    ///     Σw²: head 0: (1+1) + 4 + (6 + 5) = 17;   head 1: (1+1+1) + (9+1) + (10 + 6.25) = 29.25
    ///   channel m = gate row m + up row m + down column m
    ///     l1: gate rows 2, 2.5, 3;  up rows 4, 2.5, 3;  down columns 4, 7, 2.5  ->  10, 12, 8.5
    ///     Σw²: gate rows 2, 2.25, 3;  up rows 6, 2.25, 5;  down columns 6, 15, 2.25  ->  14, 19.5, 10.25
    func testMagnitude() throws {
        let l1 = try scores("magnitude-l1")
        assertClose(l1.heads, [11, 15.5], "magnitude-l1 heads")
        assertClose(l1.channels, [10, 12, 8.5], "magnitude-l1 channels")
        let l2 = try scores("magnitude-l2")
        assertClose(l2.heads, [sqrt(17.0), sqrt(29.25)], "magnitude-l2 heads")
        assertClose(l2.channels, [sqrt(14.0), sqrt(19.5), sqrt(10.25)], "magnitude-l2 channels")
    }
}
