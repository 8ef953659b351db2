import Foundation
import Runtime

/// Where tests find the real model and the shared fixtures.
///
/// The default model: `$BIP_MODEL_GGUF` if set, else `$BIP_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf`,
/// else `~/.cache/bip/models/SmolLM2-135M-Instruct.Q4_1.gguf`; the Qwen2 model: its file in the same
/// cache. A missing model is an error (tests fail, never skip). The shared directory: `$BIP_SHARED`
/// if set, else `../shared` next to the package root.
public enum TestModel {
    /// A missing test input, with what to do about it.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path of the model GGUF, which must exist.
    public static func ggufPath() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["BIP_MODEL_GGUF"] {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw Missing(description: "model file \(explicit) (BIP_MODEL_GGUF) not found")
            }
            return explicit
        }
        return try cachedPath(.smollm2_135m)
    }

    /// The path of the Qwen2 model (`qwen2.5-0.5b`) in the cache, which must exist.
    public static func qwen2Path() throws -> String { try cachedPath(.qwen2_5_0_5b) }

    /// Where `model` sits in the cache (`$BIP_HOME/models`, else `~/.cache/bip/models`); it must be there.
    public static func cachedPath(_ model: KnownModel) throws -> String {
        let home = ProcessInfo.processInfo.environment["BIP_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bip")
        let path = home.appendingPathComponent("models/\(model.fileName)").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "model file \(path) not found: run `bip models fetch \(model.alias)`")
        }
        return path
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: [String: LoadedModel] = [:]

    /// The default model with its tokenizer, loaded once per test process.
    public static func loaded() throws -> LoadedModel { try loaded(ggufPath()) }

    /// The Qwen2 model with its tokenizer, loaded once per test process.
    public static func loadedQwen2() throws -> LoadedModel { try loaded(qwen2Path()) }

    private static func loaded(_ path: String) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        if let model = cached[path] { return model }
        let gguf = try GGUFFile(path: path)
        let loaded = LoadedModel(path: path, model: try GGUFModelLoader.load(gguf), tokenizer: try ByteLevelBPETokenizer(gguf: gguf))
        cached[path] = loaded
        return loaded
    }

    /// The model GGUF, opened.
    public static func gguf() throws -> GGUFFile { try GGUFFile(path: ggufPath()) }

    /// The package root, found from this file's path.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared directory (fixtures, data).
    public static var sharedDirectory: URL {
        if let shared = ProcessInfo.processInfo.environment["BIP_SHARED"] {
            return URL(fileURLWithPath: shared)
        }
        return packageRoot.appendingPathComponent("../shared").standardized
    }

    /// The data directory: `$BIP_DATA`, else the shared directory's `data`; it must hold `SHA256SUMS`.
    public static func dataDirectory() throws -> URL {
        let url: URL
        if let data = ProcessInfo.processInfo.environment["BIP_DATA"], !data.isEmpty {
            url = URL(fileURLWithPath: data)
        } else {
            url = sharedDirectory.appendingPathComponent("data")
        }
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("SHA256SUMS").path) else {
            throw Missing(description: "data directory \(url.path) not found: set BIP_DATA to the folder holding SHA256SUMS")
        }
        return url
    }

    /// A file under the shared directory, which must exist.
    public static func sharedFile(_ relativePath: String) throws -> URL {
        let url = sharedDirectory.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Missing(description: "shared file \(url.path) not found (set BIP_SHARED to the shared directory)")
        }
        return url
    }
}
