import Foundation

/// Finds and reads a tokenizer without any weights: from a GGUF file (a model or a
/// vocabulary-only file), an HF `tokenizer.json`, or a directory holding a `tokenizer.json` (or
/// else a `tokenizer.gguf`, as model directories written by earlier versions of bip do).
public enum TokenizerLoader {
    /// The tokenizer-only GGUF a directory may hold instead of a tokenizer.json.
    public static let directoryGGUFName = "tokenizer.gguf"

    /// The tokenizer of the GGUF, `tokenizer.json` or directory at `path`.
    public static func load(path: String) throws -> any Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(path, "no such file or directory")
        }
        if isDirectory.boolValue {
            let directory = URL(fileURLWithPath: path)
            let json = directory.appendingPathComponent(HFTokenizerJSON.fileName).path
            if FileManager.default.fileExists(atPath: json) { return try HFTokenizerJSON.load(path: json) }
            let gguf = directory.appendingPathComponent(directoryGGUFName).path
            guard FileManager.default.fileExists(atPath: gguf) else {
                throw FileError(path, "the directory holds no \(HFTokenizerJSON.fileName) (nor \(directoryGGUFName))")
            }
            return try load(gguf: GGUFFile(path: gguf))
        }
        return path.hasSuffix(".json") ? try HFTokenizerJSON.load(path: path) : try load(gguf: GGUFFile(path: path))
    }

    /// The tokenizer in a GGUF file's metadata, chosen by `tokenizer.ggml.model`: "gpt2" is a
    /// byte-level BPE, "llama" a SentencePiece BPE.
    public static func load(gguf: GGUFFile) throws -> any Tokenizer {
        switch try gguf.requireString("tokenizer.ggml.model") {
        case "gpt2": return try ByteLevelBPETokenizer(gguf: gguf)
        case "llama": return try SentencePieceBPETokenizer(gguf: gguf)
        case let other:
            throw FileError(gguf.path, "tokenizer.ggml.model is '\(other)'; bip reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece BPE) tokenizers")
        }
    }
}
