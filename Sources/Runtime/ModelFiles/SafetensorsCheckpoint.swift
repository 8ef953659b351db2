import Foundation

/// The weights of a Hugging Face model directory: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists in its `weight_map` (tensor name to shard file name).
/// A missing shard, or a tensor missing from the shard the index names, is a `FileError`
/// naming that file.
public struct SafetensorsCheckpoint {
    public static let singleFile = "model.safetensors"
    public static let indexFile = "model.safetensors.index.json"

    /// The file that identifies the weights: the single file, or the index of the shards.
    public let identityFile: String
    private let shards: [String: Safetensors.File]
    /// Tensor name to shard file name (every tensor maps to `singleFile` when there is no index).
    private let shardOf: [String: String]
    private let single: Safetensors.File?

    public init(directory: URL) throws {
        let fm = FileManager.default
        let singleURL = directory.appendingPathComponent(Self.singleFile)
        let indexURL = directory.appendingPathComponent(Self.indexFile)
        if fm.fileExists(atPath: singleURL.path) {
            identityFile = singleURL.path
            single = try Safetensors.File(url: singleURL)
            shards = [:]
            shardOf = [:]
            return
        }
        guard fm.fileExists(atPath: indexURL.path) else {
            throw FileError(directory.path, "holds neither \(Self.singleFile) nor \(Self.indexFile)")
        }
        guard let data = fm.contents(atPath: indexURL.path),
              let map = try? JSONDecoder().decode(Index.self, from: data).weightMap else {
            throw FileError(indexURL.path, "not a JSON object with a 'weight_map' of tensor names to shard files")
        }
        var shards: [String: Safetensors.File] = [:]
        for name in Set(map.values).sorted() {
            guard !name.contains("/") else { throw FileError(indexURL.path, "shard '\(name)' is not a file in the directory") }
            let url = directory.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.path) else {
                throw FileError(url.path, "missing: \(Self.indexFile) lists it for \(map.values.filter { $0 == name }.count) tensors")
            }
            shards[name] = try Safetensors.File(url: url)
        }
        identityFile = indexURL.path
        single = nil
        self.shards = shards
        shardOf = map
    }

    /// `model.safetensors.index.json`: which shard holds each tensor.
    private struct Index: Decodable {
        let weightMap: [String: String]

        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    /// The file `name` would be read from (the single file, or its shard; the index when it lists no shard for it).
    private func file(of name: String) -> Safetensors.File? { single ?? shardOf[name].flatMap { shards[$0] } }

    public func has(_ name: String) -> Bool { file(of: name)?.shape(name) != nil }

    /// The tensor's values as Float32, checked against `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        try shardFile(of: name).floats(name, shape: shape)
    }

    /// The `[rows, columns]` tensor, F16 and BF16 kept in their 2-byte form.
    public func matrix(_ name: String, shape: [Int]) throws -> WeightMatrix {
        try shardFile(of: name).matrix(name, shape: shape)
    }

    private func shardFile(of name: String) throws -> Safetensors.File {
        guard let file = file(of: name) else {
            throw FileError(identityFile, "missing tensor '\(name)' (no shard is listed for it)")
        }
        return file
    }
}
