import Foundation
import Runtime

/// Writes a tuned model (LoRA merged into its weights) as a plain model directory next to the
/// model it was tuned from: a model directory's config.json (with its `bip` pruning section) and
/// tokenizer files are kept, the weights replaced; a GGUF source is converted. The tune's record
/// goes into config.json under `bip_tune`.
public enum TunedModelDirectory {
    public static let recordKey = "bip_tune"

    public static func write(_ model: LlamaModel, tunedFrom source: LoadedModel, record: [String: Any], to url: URL) throws {
        let fm = FileManager.default
        if PrunedModelDirectory.isModelDirectory(source.path) {
            let from = URL(fileURLWithPath: source.path)
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: from.path)
            where !name.hasSuffix(".safetensors") && name != "model.safetensors.index.json" && name != PrunedModelDirectory.configFile {
                let target = url.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: from.appendingPathComponent(name).path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                try? fm.removeItem(at: target)
                try fm.copyItem(at: from.appendingPathComponent(name), to: target)
            }
            try Safetensors.write(PrunedModelDirectory.tensors(model), dtype: .f32, metadata: ["format": "pt"],
                                  to: url.appendingPathComponent(PrunedModelDirectory.weightsFile))
            let configURL = from.appendingPathComponent(PrunedModelDirectory.configFile)
            guard var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] else {
                throw FileError(configURL.path, "not a JSON object")
            }
            config["torch_dtype"] = "float32"
            try writeConfig(config, record: record, to: url)
        } else {
            try PrunedModelDirectory.write(model, to: url, provenance: nil, tokenizerSource: GGUFFile(path: source.path))
            let configURL = url.appendingPathComponent(PrunedModelDirectory.configFile)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] ?? [:]
            try writeConfig(config, record: record, to: url)
        }
    }

    private static func writeConfig(_ config: [String: Any], record: [String: Any], to url: URL) throws {
        var config = config
        config[recordKey] = record
        let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try json.write(to: url.appendingPathComponent(PrunedModelDirectory.configFile))
    }
}
