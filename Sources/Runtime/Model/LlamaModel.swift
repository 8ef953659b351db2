/// A LLaMA-family decoder-only model: token embedding, decoder layers (their projection weights
/// Float32, 2-byte, or packed for BF16 compute: `WeightMatrix`), final
/// norm and LM head (`lmHead == nil` means tied to the embedding).
public struct LlamaModel: Sendable {
    public var config: ModelConfig
    /// `[vocabularySize, hiddenSize]` row-major.
    public var tokenEmbedding: [Float]
    public var layers: [DecoderLayer]
    public var outputNorm: [Float]
    /// `[vocabularySize, hiddenSize]`, or nil when tied to `tokenEmbedding`.
    public var lmHead: [Float]?
    /// The LM head packed for oneDNN by `prepare(for:)`, for evaluation; nil otherwise. A copy:
    /// changing `lmHead` or `tokenEmbedding` afterwards does not change it.
    public var packedHead: PackedHead?

    public init(config: ModelConfig, tokenEmbedding: [Float], layers: [DecoderLayer],
                outputNorm: [Float], lmHead: [Float]?) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.lmHead = lmHead
    }

    /// Every parameter, counting a tied LM head once.
    public var parameterCount: Int {
        tokenEmbedding.count + outputNorm.count + (lmHead?.count ?? 0)
            + layers.reduce(0) { $0 + $1.parameterCount }
    }
}
