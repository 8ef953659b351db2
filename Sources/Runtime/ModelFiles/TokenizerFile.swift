import Foundation

/// A tokenizer-only GGUF file (`tokenizer.gguf`): version 3, no tensors, the source model's
/// `tokenizer.*` metadata copied exactly, plus `general.architecture` and `general.type =
/// "tokenizer"`. `TokenizerLoader.load(gguf:)` reads it like the model file it came from.
public enum TokenizerFile {
    public static let fileName = "tokenizer.gguf"

    /// Writes the tokenizer metadata of `source` to `url`.
    public static func write(from source: GGUFFile, to url: URL) throws {
        var entries = source.metadata.filter { $0.key.hasPrefix("tokenizer.") }
        guard !entries.isEmpty else { throw FileError(source.path, "no tokenizer.* metadata to copy") }
        entries["general.architecture"] = source.metadata["general.architecture"] ?? .string("llama")
        entries["general.type"] = .string("tokenizer")
        var bytes = Array("GGUF".utf8) + GGUFEncoding.littleEndian(UInt32(3))
            + GGUFEncoding.littleEndian(UInt64(0)) + GGUFEncoding.littleEndian(UInt64(entries.count))
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) { bytes += GGUFEncoding.entry(key, value) }
        bytes += [UInt8](repeating: 0, count: (32 - bytes.count % 32) % 32)
        try AtomicFile.write(Data(bytes), to: url)
    }
}
