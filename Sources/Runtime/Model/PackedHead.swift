import Kernels

/// The LM head's weight `[vocabularySize, hiddenSize]` packed for oneDNN's Float32 matmul, one
/// `PackedMatmul` per vocabulary tile of `LanguageModelHead.tileWidth` entries (the last one
/// shorter), each multiplied on the one core that takes the tile. It is a second copy of the
/// head: a tied head is still the embedding, which the forward pass reads by rows.
public struct PackedHead: Sendable {
    public let tiles: [PackedMatmul]

    /// Packs `weight` tile by tile; throws where oneDNN has no AVX-512 Float32 matmul.
    public init(_ weight: [Float], vocabularySize: Int, hiddenSize: Int) throws {
        precondition(weight.count == vocabularySize * hiddenSize, "the head is not [\(vocabularySize), \(hiddenSize)]")
        let width = LanguageModelHead.tileWidth
        tiles = try weight.withUnsafeBufferPointer { weight in
            try stride(from: 0, to: vocabularySize, by: width).map { v0 in
                let n = min(width, vocabularySize - v0)
                return try PackedMatmul(values: UnsafeBufferPointer(rebasing: weight[(v0 * hiddenSize)..<((v0 + n) * hiddenSize)]),
                                        rows: n, columns: hiddenSize, splitOverCores: false)
            }
        }
    }
}
