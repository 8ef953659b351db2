import Foundation
import Runtime

/// Where tests find the real model and the shared fixtures.
///
/// The model: `$BIP_MODEL_GGUF` if set, else `$BIP_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf`,
/// else `~/.cache/bip/models/SmolLM2-135M-Instruct.Q4_1.gguf`. A missing model is an error
/// (tests fail, never skip). The shared directory: `$BIP_SHARED` if set, else `../shared`
/// next to the package root.
enum TestModel {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// A missing test input, with what to do about it.
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// The path of the model GGUF, which must exist.
    static func ggufPath() throws -> String {
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

    /// The model GGUF, opened.
    static func gguf() throws -> GGUFFile { try GGUFFile(path: ggufPath()) }

    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared directory (fixtures, data).
    static var sharedDirectory: URL {
        if let shared = ProcessInfo.processInfo.environment["BIP_SHARED"] {
            return URL(fileURLWithPath: shared)
        }
        return packageRoot.appendingPathComponent("../shared").standardized
    }

    /// A file under the shared directory, which must exist.
    static func sharedFile(_ relativePath: String) throws -> URL {
        let url = sharedDirectory.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Missing(description: "shared file \(url.path) not found (set BIP_SHARED to the shared directory)")
        }
        return url
    }
}
