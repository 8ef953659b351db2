import Foundation

/// Writes a tuned model (LoRA merged into its weights) as a plain model directory next to the
/// model it was tuned from: a model directory's config.json (with its `bip` pruning section) and
/// tokenizer files are kept, the weights replaced; a GGUF source is converted. The tune's record
/// goes into config.json under `bip_tune`, written last (see `ModelDirectory.beginWriting`).
public enum TunedModelDirectory {
    public static func write(_ model: LlamaModel, tunedFrom source: LoadedModel, record: some Encodable, to url: URL) throws {
        let fm = FileManager.default
        var config: HFConfig
        if ModelDirectory.isModelDirectory(source.path) {
            let from = URL(fileURLWithPath: source.path)
            config = try HFConfig.read(from: from.appendingPathComponent(HFConfig.fileName))
            config.torchDType = "float32"
            try ModelDirectory.beginWriting(url)
            for name in try fm.contentsOfDirectory(atPath: from.path)
            where !name.hasSuffix(".safetensors") && name != SafetensorsCheckpoint.indexFile && name != HFConfig.fileName {
                let target = url.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: from.appendingPathComponent(name).path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                try AtomicFile.write(try Data(contentsOf: from.appendingPathComponent(name)), to: target)
            }
            try Safetensors.write(ModelDirectory.tensors(model), dtype: .f32, metadata: ["format": "pt"],
                                  to: url.appendingPathComponent(ModelDirectory.weightsFile))
        } else {
            let tokenizer = try GGUFFile(path: source.path)
            try ModelDirectory.write(model, to: url, provenance: nil, tokenizerSource: tokenizer)
            config = ModelDirectory.config(model, dtype: .f32, provenance: nil, tokenizer: tokenizer)
        }
        try HFConfig.write(TunedConfig(config: config, record: record), to: url.appendingPathComponent(HFConfig.fileName))
    }

    /// A tuned model's config.json: the config's fields and the tune's record under `bip_tune`.
    private struct TunedConfig<Record: Encodable>: Encodable {
        let config: HFConfig
        let record: Record

        enum CodingKeys: String, CodingKey { case record = "bip_tune" }

        func encode(to encoder: any Encoder) throws {
            try config.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(record, forKey: .record)
        }
    }
}
