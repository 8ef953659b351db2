import Foundation
import Runtime
import TestSupport
import XCTest

/// The Q5_0, Q5_1, Q4_K, Q5_K, Q6_K and Q8_K decoders against blocks built by hand. Each test picks
/// scales, mins and quants, packs them into ggml's byte layout with its own packing code (written
/// from the layout, not from the decoder), and computes the expected Floats from the chosen numbers
/// directly; a few elements are also checked against values worked out by hand. The numbers are
/// chosen so that every expected value is exact in Float32.
final class QuantizedBlockTests: XCTestCase {
    typealias W = GGUFWriterForTests
    var directory: URL!

    override func setUpWithError() throws {
        directory = try temporaryFolder("quant-tests")
    }

    /// Stores `data` as one tensor of `type` in a GGUF file and decodes it through `GGUFFile.floats`.
    func decode(type: UInt32, elements: Int, data: [UInt8]) throws -> [Float] {
        var w = W()
        w.tensors = [.init(name: "t", dims: [UInt64(elements)], type: type, data: data)]
        let g = try GGUFFile(path: try w.write(to: directory.appendingPathComponent("t\(type).gguf").path))
        XCTAssertEqual(g.tensors[0].byteCount, data.count, "block size of type \(type)")
        return try g.floats(g.tensors[0])
    }

    func half(_ x: Float) -> [UInt8] { W.u16Bytes([Float16(x).bitPattern]) }

    func assertEqual(_ got: [Float], _ want: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, file: file, line: line)
        var failures = 0
        for (i, (g, w)) in zip(got, want).enumerated() where Double(g) != w {
            failures += 1
            if failures <= 5 { XCTFail("element \(i): got \(g), want \(w)", file: file, line: line) }
        }
        XCTAssertEqual(failures, 0, "elements that differ", file: file, line: line)
    }

    /// 16 bytes of nibbles and the 32-bit fifth-bit word of a 32-element block of 5-bit quants.
    func pack5(_ q: [Int]) -> [UInt8] {
        var qh: UInt32 = 0
        for i in 0..<32 { qh |= UInt32(q[i] >> 4) << UInt32(i) }
        return W.le(qh) + (0..<16).map { UInt8(q[$0] & 15 | (q[$0 + 16] & 15) << 4) }
    }

    func testQ5_0() throws {
        // Block 1: d = 0.5, quants (13i + 5) mod 32, value 0.5 * (q - 16).
        let q1 = (0..<32).map { ($0 * 13 + 5) % 32 }
        // Block 2: d = -2, every quant 31: value -2 * 15 = -30.
        let q2 = [Int](repeating: 31, count: 32)
        let data = half(0.5) + pack5(q1) + half(-2) + pack5(q2)
        XCTAssertEqual(data.count, 44)
        let got = try decode(type: 6, elements: 64, data: data)
        assertEqual(got, q1.map { 0.5 * Double($0 - 16) } + q2.map { -2 * Double($0 - 16) })
        // By hand: q[0] = 5 -> -5.5; q[1] = 18 -> 1; q[16] = 213 mod 32 = 21 -> 2.5; q[31] = 408 mod 32 = 24 -> 4.
        XCTAssertEqual([got[0], got[1], got[16], got[31], got[32], got[63]], [-5.5, 1, 2.5, 4, -30, -30])
    }

    func testQ5_0FifthBitsOnly() throws {
        // Nibbles all zero; qh = 0x8001_0001 sets the fifth bit of elements 0, 16 and 31 only:
        // those decode to d * (16 - 16) = 0, all others to d * (0 - 16) = -16 with d = 1.
        let data = half(1) + [0x01, 0x00, 0x01, 0x80] + [UInt8](repeating: 0, count: 16)
        var want = [Double](repeating: -16, count: 32)
        want[0] = 0; want[16] = 0; want[31] = 0
        assertEqual(try decode(type: 6, elements: 32, data: data), want)
    }

    func testQ5_1() throws {
        // Block 1: d = 0.25, m = -1.5, quants (7i + 3) mod 32, value 0.25 q - 1.5.
        let q1 = (0..<32).map { ($0 * 7 + 3) % 32 }
        // Block 2: d = 2, m = 0.5, quants 31 - i, value 2 (31 - i) + 0.5.
        let q2 = (0..<32).map { 31 - $0 }
        let data = half(0.25) + half(-1.5) + pack5(q1) + half(2) + half(0.5) + pack5(q2)
        XCTAssertEqual(data.count, 48)
        let got = try decode(type: 7, elements: 64, data: data)
        assertEqual(got, q1.map { 0.25 * Double($0) - 1.5 } + q2.map { 2 * Double($0) + 0.5 })
        // By hand: q[0] = 3 -> -0.75; q[31] = 220 mod 32 = 28 -> 5.5; block 2 element 0 -> 62.5, element 31 -> 0.5.
        XCTAssertEqual([got[0], got[31], got[32], got[63]], [-0.75, 5.5, 62.5, 0.5])
    }

    /// The 12 bytes holding eight 6-bit scales and eight 6-bit mins of a Q4_K / Q5_K block.
    func packScalesAndMins(_ scale: [Int], _ min: [Int]) -> [UInt8] {
        var s = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            s[j] = UInt8(scale[j] | (scale[j + 4] >> 4) << 6)
            s[j + 4] = UInt8(min[j] | (min[j + 4] >> 4) << 6)
            s[j + 8] = UInt8(scale[j + 4] & 15 | (min[j + 4] & 15) << 4)
        }
        return s
    }

    /// 128 bytes of nibbles: byte 32c + l holds element 64c + l low and element 64c + 32 + l high.
    func packKNibbles(_ q: [Int]) -> [UInt8] {
        (0..<128).map { i in
            let c = i / 32, l = i % 32
            return UInt8(q[64 * c + l] & 15 | (q[64 * c + 32 + l] & 15) << 4)
        }
    }

    struct KBlock {
        var d: Float, dmin: Float, scale: [Int], min: [Int], q: [Int]
        var values: [Double] {
            (0..<256).map { Double(d) * Double(scale[$0 / 32]) * Double(q[$0]) - Double(dmin) * Double(min[$0 / 32]) }
        }
    }

    let kBlocks = [
        KBlock(d: 0.5, dmin: 0.25, scale: [1, 63, 17, 40, 33, 48, 5, 60], min: [0, 7, 63, 20, 49, 2, 31, 16],
               q: (0..<256).map { ($0 * 5 + $0 / 32) % 16 }),
        KBlock(d: -1, dmin: 2, scale: [62, 15, 16, 31, 32, 47, 63, 0], min: [63, 33, 1, 48, 15, 16, 47, 62],
               q: (0..<256).map { 15 - $0 % 16 }),
    ]

    func testQ4_K() throws {
        var data: [UInt8] = []
        for b in kBlocks { data += half(b.d) + half(b.dmin) + packScalesAndMins(b.scale, b.min) + packKNibbles(b.q) }
        XCTAssertEqual(data.count, 288)
        let got = try decode(type: 12, elements: 512, data: data)
        assertEqual(got, kBlocks[0].values + kBlocks[1].values)
        // By hand, block 1: element 32 is sub-block 1 (scale 63, min 7), q = 161 mod 16 = 1:
        // 0.5*63*1 - 0.25*7 = 29.75. Element 130: sub-block 4 (33, 49), q = 654 mod 16 = 14:
        // 0.5*33*14 - 0.25*49 = 218.75. Element 255: sub-block 7 (60, 16), q = 1282 mod 16 = 2: 60 - 4 = 56.
        // Block 2, element 0: -1*62*15 - 2*63 = -1056; element 511: sub-block 7 (0, 62): -124.
        XCTAssertEqual([got[32], got[130], got[255], got[256], got[511]], [29.75, 218.75, 56, -1056, -124])
    }

    func testQ5_K() throws {
        var blocks = kBlocks
        blocks[0].q = (0..<256).map { ($0 * 11 + $0 / 64) % 32 }
        blocks[1].q = (0..<256).map { 31 - $0 % 32 }
        var data: [UInt8] = []
        for b in blocks {
            // Fifth bits: bit s of byte l is the fifth bit of element l of sub-block s.
            let fifth = (0..<32).map { l in (0..<8).reduce(UInt8(0)) { $0 | UInt8(b.q[32 * $1 + l] >> 4) << $1 } }
            data += half(b.d) + half(b.dmin) + packScalesAndMins(b.scale, b.min) + fifth + packKNibbles(b.q)
        }
        XCTAssertEqual(data.count, 352)
        let got = try decode(type: 13, elements: 512, data: data)
        assertEqual(got, blocks[0].values + blocks[1].values)
        // By hand, block 1: element 35 is sub-block 1 (63, 7), q = 385 mod 32 = 1: 31.5 - 1.75 = 29.75;
        // element 34: q = 374 mod 32 = 22 (fifth bit set): 0.5*63*22 - 1.75 = 691.25.
        // Block 2, element 256: sub-block 0 (62, 63), q = 31: -1*62*31 - 126 = -2048.
        XCTAssertEqual([got[34], got[35], got[256]], [691.25, 29.75, -2048])
    }

    func testQ6_K() throws {
        struct Block { var d: Float; var scale: [Int]; var q: [Int] }
        let blocks = [
            Block(d: 0.5, scale: [1, -2, 3, -4, 127, -128, 10, -10, 7, 0, -1, 64, 25, -33, 2, 100],
                  q: (0..<256).map { ($0 * 37 + $0 / 128) % 64 }),
            Block(d: -0.25, scale: (0..<16).map { 8 * $0 - 60 }, q: (0..<256).map { 63 - $0 % 64 }),
        ]
        var data: [UInt8] = []
        for b in blocks {
            var low = [UInt8](repeating: 0, count: 128), high = [UInt8](repeating: 0, count: 64)
            for e in 0..<256 {
                // Element e = 128h + 32g + l.
                let h = e / 128, g = (e % 128) / 32, l = e % 32
                low[64 * h + 32 * (g % 2) + l] |= UInt8(b.q[e] & 15) << (g < 2 ? 0 : 4)
                high[32 * h + l] |= UInt8(b.q[e] >> 4) << (2 * g)
            }
            data += low + high + b.scale.map { UInt8(bitPattern: Int8($0)) } + half(b.d)
        }
        XCTAssertEqual(data.count, 420)
        let got = try decode(type: 14, elements: 512, data: data)
        let want = blocks.flatMap { b in (0..<256).map { Double(b.d) * Double(b.scale[$0 / 16]) * Double(b.q[$0] - 32) } }
        assertEqual(got, want)
        // By hand, block 1: element 0: q = 0 -> 0.5*1*(-32) = -16. Element 16: scale -2, q = 592 mod 64 = 16:
        // 0.5*(-2)*(-16) = 16. Element 80: scale -128, q = 2960 mod 64 = 16: 0.5*(-128)*(-16) = 1024.
        // Element 255: scale 100, q = 9436 mod 64 = 28: 0.5*100*(-4) = -200.
        // Block 2, element 256: scale -60, q = 63: -0.25*(-60)*31 = 465.
        XCTAssertEqual([got[0], got[16], got[80], got[255], got[256]], [-16, 16, 1024, -200, 465])
    }

    func testQ8_K() throws {
        // d = -0.375 as Float32, quants 3i - 100 wrapped to int8, then 32 bytes of block sums, which
        // are not values (filled with 0xAB here to show they are skipped).
        let q = (0..<256).map { Int8(truncatingIfNeeded: 3 * $0 - 100) }
        let sums = [UInt8](repeating: 0xAB, count: 32)
        let data = W.f32Bytes([-0.375]) + q.map { UInt8(bitPattern: $0) } + sums
            + W.f32Bytes([2]) + [UInt8](repeating: 0xFF, count: 256) + sums
        XCTAssertEqual(data.count, 584)
        let got = try decode(type: 15, elements: 512, data: data)
        assertEqual(got, q.map { -0.375 * Double($0) } + [Double](repeating: -2, count: 256))
        // By hand: element 0: q = -100 -> 37.5; element 100: q = 200 - 256 = -56 -> 21.
        XCTAssertEqual([got[0], got[100]], [37.5, 21])
    }
}
