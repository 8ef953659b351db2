/// The hyperparameters shared by every layer of a LLaMA-family model.
/// Per-layer shapes (heads, KV heads, FFN width) live in each `DecoderLayer`.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var headDim: Int
    public var ropeBase: Double
    public var rmsEpsilon: Float
    public var contextLength: Int

    public init(architecture: String, vocabularySize: Int, hiddenSize: Int, headDim: Int,
                ropeBase: Double, rmsEpsilon: Float, contextLength: Int) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.headDim = headDim
        self.ropeBase = ropeBase
        self.rmsEpsilon = rmsEpsilon
        self.contextLength = contextLength
    }
}
