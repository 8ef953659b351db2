import Foundation
import Runtime

/// Where tests find the real model and the shared fixtures.
///
/// The model: `$BIP_MODEL_GGUF` if set, else `$BIP_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf`,
/// else `~/.cache/bip/models/SmolLM2-135M-Instruct.Q4_1.gguf`. A missing model is an error
/// (tests fail, never skip). The shared directory: `$BIP_SHARED` if set, else `../shared`
/// next to the package root.
public enum TestModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// A missing test input, with what to do about it.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path of the model GGUF, which must exist.
    public static func ggufPath() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        if let explicit = environment["BIP_MODEL_GGUF"] {
            path = explicit
        } else if let home = environment["BIP_HOME"] {
            path = URL(fileURLWithPath: home).appendingPathComponent("models/\(fileName)").path
        } else {
            path = FileManager.default.homeDirectoryForCurrentUser
                .appendingPathComponent(".cache/bip/models/\(fileName)").path
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "model file \(path) not found: run `bip models fetch smollm2-135m` (or set BIP_MODEL_GGUF)")
        }
        return path
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: LoadedModel?

    /// The default model with its tokenizer, loaded once per test process.
    public static func loaded() throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let path = try ggufPath()
        let gguf = try GGUFFile(path: path)
        let loaded = LoadedModel(path: path, model: try GGUFModelLoader.load(gguf), tokenizer: try ByteLevelBPETokenizer(gguf: gguf))
        cached = loaded
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
