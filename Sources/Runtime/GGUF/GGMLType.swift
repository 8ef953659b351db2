/// A ggml tensor element type: its id in GGUF files and its block layout.
public struct GGMLType: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let id: UInt32
    public let name: String
    /// Elements per block (1 for plain float types).
    public let blockElements: Int
    /// Bytes per block.
    public let blockBytes: Int

    public static let f32 = GGMLType(id: 0, name: "F32", blockElements: 1, blockBytes: 4)
    public static let f16 = GGMLType(id: 1, name: "F16", blockElements: 1, blockBytes: 2)
    public static let q4_0 = GGMLType(id: 2, name: "Q4_0", blockElements: 32, blockBytes: 18)
    public static let q4_1 = GGMLType(id: 3, name: "Q4_1", blockElements: 32, blockBytes: 20)
    public static let q5_0 = GGMLType(id: 6, name: "Q5_0", blockElements: 32, blockBytes: 22)
    public static let q5_1 = GGMLType(id: 7, name: "Q5_1", blockElements: 32, blockBytes: 24)
    public static let q8_0 = GGMLType(id: 8, name: "Q8_0", blockElements: 32, blockBytes: 34)
    public static let q8_1 = GGMLType(id: 9, name: "Q8_1", blockElements: 32, blockBytes: 36)
    public static let q2_K = GGMLType(id: 10, name: "Q2_K", blockElements: 256, blockBytes: 84)
    public static let q3_K = GGMLType(id: 11, name: "Q3_K", blockElements: 256, blockBytes: 110)
    public static let q4_K = GGMLType(id: 12, name: "Q4_K", blockElements: 256, blockBytes: 144)
    public static let q5_K = GGMLType(id: 13, name: "Q5_K", blockElements: 256, blockBytes: 176)
    public static let q6_K = GGMLType(id: 14, name: "Q6_K", blockElements: 256, blockBytes: 210)
    public static let q8_K = GGMLType(id: 15, name: "Q8_K", blockElements: 256, blockBytes: 292)
    public static let bf16 = GGMLType(id: 30, name: "BF16", blockElements: 1, blockBytes: 2)

    /// Every type whose storage size is known (so a file holding it can be laid out and checked).
    public static let known: [UInt32: GGMLType] = Dictionary(
        uniqueKeysWithValues: [f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1,
                               q2_K, q3_K, q4_K, q5_K, q6_K, q8_K, bf16].map { ($0.id, $0) })

    public var description: String { name }
}
