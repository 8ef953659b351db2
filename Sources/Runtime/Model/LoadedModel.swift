import Foundation

/// A model ready to run: its weights, its tokenizer, and where they came from.
public struct LoadedModel: Sendable {
    /// What the user named: a model file or a model directory.
    public let path: String
    /// The file holding the weights (the GGUF, or a directory's safetensors); its sha256 identifies the model.
    public let weightsFile: String
    public private(set) var model: LlamaModel
    public let tokenizer: any Tokenizer

    public init(path: String, weightsFile: String? = nil, model: LlamaModel, tokenizer: any Tokenizer) {
        self.path = path
        self.weightsFile = weightsFile ?? path
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Loads `spec`: a model directory (see `ModelDirectory`), a `.gguf` path, or a known alias
    /// (fetched into the cache when missing).
    public static func load(_ spec: String, cache: ModelCache = ModelCache(),
                            progress: (String) -> Void = { _ in }) throws -> LoadedModel {
        if ModelDirectory.isModelDirectory(spec) { return try ModelDirectory.load(URL(fileURLWithPath: spec)) }
        let url = try cache.resolve(spec, progress: progress)
        let gguf = try GGUFFile(path: url.path)
        return LoadedModel(path: url.path, model: try GGUFModelLoader.load(gguf),
                           tokenizer: try TokenizerLoader.load(gguf: gguf))
    }

    /// The GGUF file holding the model's tokenizer as it came (the model file, or a model
    /// directory's tokenizer.gguf): what a model directory written from this model copies.
    public func tokenizerSource() throws -> GGUFFile {
        ModelDirectory.isModelDirectory(path)
            ? try GGUFFile(path: URL(fileURLWithPath: path).appendingPathComponent(TokenizerFile.fileName).path)
            : try GGUFFile(path: path)
    }

    /// The model prepared for `compute` (see `LlamaModel.prepare(for:)`).
    public mutating func prepare(for compute: ComputePrecision) throws {
        try model.prepare(for: compute)
    }

    /// The sha256 of the weights file (reads the whole file).
    public func fileSHA256() throws -> String { try SHA256.hex(ofFile: URL(fileURLWithPath: weightsFile)) }
}
