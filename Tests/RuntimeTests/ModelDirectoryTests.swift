import Foundation
@testable import Runtime
import TestSupport
import XCTest

/// Hugging Face style model directories: `bip convert`'s output gives the GGUF's logits; a tiny
/// Qwen2 model round-trips with its biases and untied head; sharded checkpoints load; bad
/// directories are errors naming the file at fault.
final class ModelDirectoryTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try temporaryFolder("hf")
    }

    /// A 2-layer model with hidden size 8, 2 query heads and 1 KV head of dimension 4, FFN 12 and a
    /// 32-token vocabulary; weights from a fixed formula. `qwen2` adds q/k/v biases and an untied head.
    func tinyModel(qwen2: Bool) -> LlamaModel {
        var seed = 0
        func values(_ n: Int) -> [Float] {
            defer { seed += n }
            return (0..<n).map { Float(sin(Double(seed + $0) * 0.731)) * 0.5 }
        }
        func linear(_ out: Int, _ inFeatures: Int, bias: Bool = false) -> Linear {
            Linear(weight: values(out * inFeatures), bias: bias ? values(out) : nil, outFeatures: out, inFeatures: inFeatures)
        }
        let layers = (0..<2).map { _ in
            DecoderLayer(attentionNorm: values(8).map { 1 + $0 }, q: linear(8, 8, bias: qwen2), k: linear(4, 8, bias: qwen2),
                         v: linear(4, 8, bias: qwen2), output: linear(8, 8), ffnNorm: values(8).map { 1 + $0 },
                         gate: linear(12, 8), up: linear(12, 8), down: linear(8, 12), kvHeadOfQueryHead: [0, 0], headDim: 4)
        }
        let config = ModelConfig(architecture: qwen2 ? "qwen2" : "llama", vocabularySize: 32, hiddenSize: 8, headDim: 4,
                                 ropeBase: qwen2 ? 1_000_000 : 10000, rmsEpsilon: 1e-6, contextLength: 64)
        return LlamaModel(config: config, tokenEmbedding: values(32 * 8), layers: layers, outputNorm: values(8).map { 1 + $0 },
                          lmHead: qwen2 ? values(32 * 8) : nil)
    }

    func write(_ model: LlamaModel, to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try ModelDirectory.write(model, to: url, provenance: nil, tokenizerSource: try TinyModel.gguf())
        return url
    }

    func config(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("config.json"))) as? [String: Any])
    }

    func editConfig(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
        var json = try config(url)
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url.appendingPathComponent("config.json"))
    }

    /// The error loading `url` throws, which must be a `FileError`.
    func loadError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> FileError? {
        do {
            _ = try LoadedModel.load(url.path)
            XCTFail("loading \(url.path) should fail", file: file, line: line)
        } catch let error as FileError {
            return error
        } catch {
            XCTFail("not a FileError: \(error)", file: file, line: line)
        }
        return nil
    }

    func assertSameWeights(_ a: LlamaModel, _ b: LlamaModel, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.config, b.config, file: file, line: line)
        XCTAssertEqual(a.tokenEmbedding, b.tokenEmbedding, file: file, line: line)
        XCTAssertEqual(a.outputNorm, b.outputNorm, file: file, line: line)
        XCTAssertEqual(a.lmHead, b.lmHead, file: file, line: line)
        XCTAssertEqual(a.layers.count, b.layers.count, file: file, line: line)
        for (x, y) in zip(a.layers, b.layers) {
            XCTAssertEqual(x.kvHeadOfQueryHead, y.kvHeadOfQueryHead, file: file, line: line)
            for (p, q) in [(x.qkv, y.qkv), (x.output, y.output), (x.gateUp, y.gateUp), (x.down, y.down)] {
                XCTAssertEqual(p.weight, q.weight, file: file, line: line)
                XCTAssertEqual(p.bias, q.bias, file: file, line: line)
            }
            XCTAssertEqual(x.attentionNorm, y.attentionNorm, file: file, line: line)
            XCTAssertEqual(x.ffnNorm, y.ffnNorm, file: file, line: line)
        }
    }

    /// `tinyModel` with layer 1 pruned as FLAP would: query head 1 and FFN channels 0..<6 kept,
    /// a bias on o_proj.
    func prunedTinyModel() -> LlamaModel {
        var model = tinyModel(qwen2: false)
        let layer = model.layers[1]
        func columns(_ linear: Linear, _ kept: Range<Int>) -> [Float] {
            let w = linear.weight.floats
            return (0..<linear.outFeatures).flatMap { r in w[(r * linear.inFeatures + kept.lowerBound)..<(r * linear.inFeatures + kept.upperBound)] }
        }
        model.layers[1] = DecoderLayer(
            attentionNorm: layer.attentionNorm, q: layer.q.rows(4..<8), k: layer.k, v: layer.v,
            output: Linear(weight: columns(layer.output, 4..<8), bias: (0..<8).map { Float($0) * 0.01 }, outFeatures: 8, inFeatures: 4),
            ffnNorm: layer.ffnNorm, gate: layer.gate.rows(0..<6), up: layer.up.rows(0..<6),
            down: Linear(weight: columns(layer.down, 0..<6), outFeatures: 8, inFeatures: 6), kvHeadOfQueryHead: [0], headDim: 4)
        return model
    }

    /// A pruned model written with its provenance loads back with its shapes, biases and logits,
    /// and its config.json's `bip` section reads back as written. Without a provenance the writer
    /// refuses layers of different shapes.
    func testPrunedDirectoryRoundTripsShapesProvenanceAndLogits() throws {
        let model = prunedTinyModel()
        XCTAssertThrowsError(try write(model, to: "refused")) { error in
            XCTAssertEqual((error as? FileError)?.problem,
                           "layer 1 differs in shape from layer 0: only a pruned model (with provenance) can be written so")
        }
        let provenance = PruningProvenance(
            method: "flap", sparsityRequested: 0.2, sparsityReached: 0.1875, allocation: "global", layers: 1..<2,
            calibration: "wikitext2:train", calibrationIsTestData: false, seed: 7, sourceModel: "tiny.gguf", sourceSHA256: "0123",
            kept: [1: .init(queryHeads: [1], ffnChannels: Array(0..<6))])
        let url = directory.appendingPathComponent("pruned")
        try ModelDirectory.write(model, to: url, provenance: provenance, tokenizerSource: try TinyModel.gguf())
        let config = try HFConfig.read(from: url.appendingPathComponent("config.json"))
        XCTAssertEqual(config.bip?.provenance, provenance)
        XCTAssertEqual(config.bip?.layers.map(\.ffnWidth), [12, 6])
        XCTAssertEqual(config.bip?.layers.map(\.kvHeadOfQueryHead), [[0, 0], [0]])
        XCTAssertEqual(config.bip?.layers.map(\.biases), [[], [.o]])
        XCTAssertEqual(config.bip?.parameters, model.parameterCount)
        XCTAssertEqual(config.ffnWidth, 12)
        let back = try LoadedModel.load(url.path).model
        assertSameWeights(back, model)
        XCTAssertEqual(TestInputs.maxAbsDifference(TestInputs.logits(back, [1, 5, 9, 30]), TestInputs.logits(model, [1, 5, 9, 30])), 0)
    }

    /// A field of config.json that bip cannot read is a `FileError` naming the file and the field.
    func testBadConfigFieldIsAnErrorNamingTheFileAndField() throws {
        let url = directory.appendingPathComponent("fields")
        let provenance = PruningProvenance(
            method: "random", sparsityRequested: 0.2, sparsityReached: 0.2, allocation: "uniform", layers: 1..<2,
            calibration: nil, calibrationIsTestData: false, seed: 0, sourceModel: "tiny.gguf", sourceSHA256: "0123",
            kept: [1: .init(queryHeads: [1], ffnChannels: Array(0..<6))])
        try ModelDirectory.write(prunedTinyModel(), to: url, provenance: provenance, tokenizerSource: try TinyModel.gguf())
        let path = url.appendingPathComponent("config.json").path
        func editLayer(_ key: String, _ value: Any) throws {
            try editConfig(url) { json in
                var bip = json["bip"] as! [String: Any], layers = bip["layers"] as! [[String: Any]]
                layers[1][key] = value
                bip["layers"] = layers
                json["bip"] = bip
            }
        }
        try editConfig(url) { $0["hidden_size"] = "eight" }
        XCTAssertEqual(loadError(url), FileError(path, "'hidden_size' = eight is not a positive integer"))
        try editConfig(url) { $0["hidden_size"] = 8; $0["tie_word_embeddings"] = "yes" }
        XCTAssertEqual(loadError(url), FileError(path, "'tie_word_embeddings' is not true or false"))
        try editConfig(url) { $0["tie_word_embeddings"] = true; $0["rope_scaling"] = ["rope_type": "llama3", "factor": 8] as [String: Any] }
        XCTAssertEqual(loadError(url), FileError(path, "rope_scaling {factor, rope_type} is not supported (bip runs plain RoPE)"))
        try editConfig(url) { $0["rope_scaling"] = NSNull() }
        try editLayer("ffn", "six")
        XCTAssertEqual(loadError(url), FileError(path, "'bip.layers[1].ffn' is not an integer"))
        try editLayer("ffn", 6)
        try editLayer("kv_head_of_query_head", [1])
        XCTAssertEqual(loadError(url), FileError(path, "bip.layers[1] lacks a valid kv_head_of_query_head, kv_heads or ffn"))
        try editLayer("kv_head_of_query_head", [0])
        try editConfig(url) { json in
            var bip = json["bip"] as! [String: Any]
            bip["seed"] = nil
            json["bip"] = bip
        }
        XCTAssertEqual(loadError(url), FileError(path, "missing 'bip.seed'"))
    }

    /// What `bip convert --model TINY.gguf` writes: a plain LlamaForCausalLM directory (no `bip`
    /// section) whose logits are exactly the GGUF model's.
    func testConvertedGGUFModelGivesTheGGUFLogits() throws {
        let loaded = try TinyModel.loaded()
        let url = try write(loaded.model, to: "tiny")
        let json = try config(url)
        XCTAssertEqual(json["architectures"] as? [String], ["LlamaForCausalLM"])
        XCTAssertNil(json["bip"])
        XCTAssertEqual(json["num_key_value_heads"] as? Int, 2)
        XCTAssertEqual(json["tie_word_embeddings"] as? Bool, true)
        let back = try LoadedModel.load(url.path)
        XCTAssertEqual(back.weightsFile, url.appendingPathComponent("model.safetensors").path)
        let tokens = loaded.tokenizer.encode("The 3 quick brown foxes jumped over 12 lazy dogs.", parseSpecial: false)
        XCTAssertEqual(back.tokenizer.encode("The 3 quick brown foxes jumped over 12 lazy dogs.", parseSpecial: false), tokens)
        XCTAssertEqual(TestInputs.maxAbsDifference(TestInputs.logits(back.model, tokens), TestInputs.logits(loaded.model, tokens)), 0)
    }

    /// `model` with every projection weight replaced by `round(w)` in Float32 (what a 2-byte
    /// checkpoint of it holds, computed here independently of the reader).
    func rounded(_ model: LlamaModel, _ round: (Float) -> Float) -> LlamaModel {
        var out = model
        for l in out.layers.indices {
            for path in [\DecoderLayer.qkv, \DecoderLayer.output, \DecoderLayer.gateUp, \DecoderLayer.down] {
                let w = out.layers[l][keyPath: path]
                out.layers[l][keyPath: path] = Linear(weight: w.weight.floats.map(round), bias: w.bias,
                                                      outFeatures: w.outFeatures, inFeatures: w.inFeatures)
            }
        }
        return out
    }

    /// F16 checkpoints keep their projections in 2 bytes; the tiled product gives the logits of
    /// the Float32 model holding the same (F16-rounded) values.
    func testF16CheckpointStaysTwoBytesAndGivesTheRoundedModelsLogits() throws {
        let model = tinyModel(qwen2: false)
        let url = directory.appendingPathComponent("f16")
        try ModelDirectory.write(model, to: url, dtype: .f16, provenance: nil, tokenizerSource: try TinyModel.gguf())
        let back = try LoadedModel.load(url.path).model
        XCTAssertEqual(back.layers[0].qkv.weight.element, .float16)
        XCTAssertEqual(back.layers[1].down.weight.element, .float16)
        XCTAssertEqual(back.layers[0].qkv.weight.byteCount, 16 * 8 * 2)
        // The writer stores every tensor as F16: embedding and norms too.
        var expected = rounded(model) { Float(Float16($0)) }
        func f16(_ v: [Float]) -> [Float] { v.map { Float(Float16($0)) } }
        expected.tokenEmbedding = f16(model.tokenEmbedding)
        expected.outputNorm = f16(model.outputNorm)
        for l in expected.layers.indices {
            expected.layers[l].attentionNorm = f16(model.layers[l].attentionNorm)
            expected.layers[l].ffnNorm = f16(model.layers[l].ffnNorm)
        }
        XCTAssertEqual(back.layers[1].gateUp.weight.floats, expected.layers[1].gateUp.weight.floats)
        XCTAssertEqual(back.tokenEmbedding, expected.tokenEmbedding)
        let tokens = [1, 5, 9, 2, 31, 0, 17]
        XCTAssertLessThan(TestInputs.maxAbsDifference(TestInputs.logits(back, tokens), TestInputs.logits(expected, tokens)), 1e-5)
    }

    /// A BF16 checkpoint written here by hand (the top 16 bits of each Float32 weight) loads with
    /// 2-byte projections holding exactly the truncated values, and gives their model's logits.
    func testBF16CheckpointStaysTwoBytesAndGivesTheTruncatedModelsLogits() throws {
        let model = tinyModel(qwen2: false)
        let url = try write(model, to: "bf16")
        // Rewrite model.safetensors with every 2-D tensor as BF16.
        let file = try Safetensors.File(url: url.appendingPathComponent("model.safetensors"))
        var header: [String: Any] = [:]
        var data = Data()
        for t in ModelDirectory.tensors(model) {
            let values = try file.floats(t.name, shape: t.shape)
            let bf16 = t.shape.count == 2
            let start = data.count
            if bf16 {
                for v in values { withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { data.append(contentsOf: $0) } }
            } else {
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
            header[t.name] = ["dtype": bf16 ? "BF16" : "F32", "shape": t.shape, "data_offsets": [start, data.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var bytes = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        try (bytes + json + data).write(to: url.appendingPathComponent("model.safetensors"))

        let back = try LoadedModel.load(url.path).model
        XCTAssertEqual(back.layers[0].output.weight.element, .bfloat16)
        XCTAssertEqual(back.layers[0].gateUp.weight.element, .bfloat16)
        let expected = rounded(model) { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        for (x, y) in zip(back.layers, expected.layers) {
            XCTAssertEqual(x.qkv.weight.floats, y.qkv.weight.floats)
            XCTAssertEqual(x.down.weight.floats, y.down.weight.floats)
        }
        let expectedEmbedding = model.tokenEmbedding.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        XCTAssertEqual(back.tokenEmbedding, expectedEmbedding)
        var reference = expected
        reference.tokenEmbedding = expectedEmbedding
        let tokens = [3, 30, 8, 8, 1, 22]
        XCTAssertLessThan(TestInputs.maxAbsDifference(TestInputs.logits(back, tokens), TestInputs.logits(reference, tokens)), 1e-5)
    }

    func testQwen2DirectoryRoundTripsWithBiasesAndUntiedHead() throws {
        let model = tinyModel(qwen2: true)
        let url = try write(model, to: "qwen2")
        let json = try config(url)
        XCTAssertEqual(json["architectures"] as? [String], ["Qwen2ForCausalLM"])
        XCTAssertEqual(json["rope_theta"] as? Double, 1_000_000)
        XCTAssertEqual(json["tie_word_embeddings"] as? Bool, false)
        let back = try LoadedModel.load(url.path).model
        assertSameWeights(back, model)
        XCTAssertNotNil(back.layers[1].qkv.bias)
        XCTAssertEqual(TestInputs.maxAbsDifference(TestInputs.logits(back, [1, 5, 9, 30]), TestInputs.logits(model, [1, 5, 9, 30])), 0)
    }

    /// A HF config with only the required fields (no num_key_value_heads, head_dim, rope_theta,
    /// tie_word_embeddings): HF's defaults apply, and the head is tied because there is no lm_head.
    func testMinimalLlamaConfigUsesTheDefaults() throws {
        var model = tinyModel(qwen2: false)
        model.layers = model.layers.map { layer in
            // Two KV heads (one per query head), as num_key_value_heads' default says.
            DecoderLayer(attentionNorm: layer.attentionNorm, q: layer.q, k: Linear.stacked([layer.k, layer.k]),
                         v: Linear.stacked([layer.v, layer.v]), output: layer.output, ffnNorm: layer.ffnNorm,
                         gate: layer.gate, up: layer.up, down: layer.down, kvHeadOfQueryHead: [0, 1], headDim: 4)
        }
        let url = try write(model, to: "minimal")
        try editConfig(url) { json in
            json = json.filter { ["architectures", "hidden_size", "num_attention_heads", "num_hidden_layers",
                                  "intermediate_size", "vocab_size", "max_position_embeddings", "rms_norm_eps"].contains($0.key) }
        }
        let back = try LoadedModel.load(url.path).model
        assertSameWeights(back, model)
        XCTAssertNil(back.lmHead)
    }

    /// The same tensors split over two shards with an index.
    func testShardedCheckpointLoads() throws {
        let model = tinyModel(qwen2: true)
        let url = try shardedCopy(of: model)
        let back = try LoadedModel.load(url.path)
        XCTAssertEqual(back.weightsFile, url.appendingPathComponent("model.safetensors.index.json").path)
        assertSameWeights(back.model, model)
    }

    /// `model` written, then its model.safetensors replaced by two shards and an index.
    func shardedCopy(of model: LlamaModel) throws -> URL {
        let url = try write(model, to: "sharded")
        try FileManager.default.removeItem(at: url.appendingPathComponent("model.safetensors"))
        let tensors = ModelDirectory.tensors(model)
        let half = tensors.count / 2
        var map: [String: String] = [:]
        for (i, part) in [tensors[..<half], tensors[half...]].enumerated() {
            let name = "model-0000\(i + 1)-of-00002.safetensors"
            try Safetensors.write(Array(part), dtype: .f32, to: url.appendingPathComponent(name))
            for t in part { map[t.name] = name }
        }
        try JSONSerialization.data(withJSONObject: ["metadata": [:] as [String: Any], "weight_map": map])
            .write(to: url.appendingPathComponent("model.safetensors.index.json"))
        return url
    }

    func testMissingShardIsAnErrorNamingIt() throws {
        let url = try shardedCopy(of: tinyModel(qwen2: true))
        let shard = url.appendingPathComponent("model-00002-of-00002.safetensors")
        try FileManager.default.removeItem(at: shard)
        let error = loadError(url)
        XCTAssertEqual(error?.file, shard.path)
        XCTAssertTrue(error?.problem.contains("missing") == true, "\(String(describing: error))")
    }

    func testShapeMismatchIsAnErrorNamingTheFileAndTensor() throws {
        let url = try write(tinyModel(qwen2: false), to: "shape")
        try editConfig(url) { $0["intermediate_size"] = 13 }
        let error = loadError(url)
        XCTAssertEqual(error?.file, url.appendingPathComponent("model.safetensors").path)
        XCTAssertTrue(error?.problem.contains("model.layers.0.mlp.gate_proj.weight' has shape [12, 8], expected [13, 8]") == true,
                      "\(String(describing: error))")
    }

    func testUnknownArchitectureIsAnErrorNamingTheConfig() throws {
        let url = try write(tinyModel(qwen2: false), to: "arch")
        try editConfig(url) { $0["architectures"] = ["GPT2LMHeadModel"] }
        let error = loadError(url)
        XCTAssertEqual(error?.file, url.appendingPathComponent("config.json").path)
        XCTAssertTrue(error?.problem.contains("'GPT2LMHeadModel' is not supported") == true, "\(String(describing: error))")
    }

    func testUnknownDTypeIsAnErrorNamingTheFile() throws {
        let url = try write(tinyModel(qwen2: false), to: "dtype")
        let weights = url.appendingPathComponent("model.safetensors")
        var bytes = [UInt8](try Data(contentsOf: weights))
        // Every "F32" in the header becomes "I32" (same length, same element size).
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        for i in 8..<(8 + length - 2) where bytes[i] == UInt8(ascii: "F") && bytes[i + 1] == UInt8(ascii: "3") && bytes[i + 2] == UInt8(ascii: "2") {
            bytes[i] = UInt8(ascii: "I")
        }
        try Data(bytes).write(to: weights)
        let error = loadError(url)
        XCTAssertEqual(error?.file, weights.path)
        XCTAssertTrue(error?.problem.contains("dtype I32") == true, "\(String(describing: error))")
    }

    func testMissingQwen2BiasIsAnError() throws {
        let url = try write(tinyModel(qwen2: false), to: "bias")
        try editConfig(url) { $0["architectures"] = ["Qwen2ForCausalLM"] }
        let error = loadError(url)
        XCTAssertEqual(error?.file, url.appendingPathComponent("model.safetensors").path)
        XCTAssertTrue(error?.problem.contains("missing tensor 'model.layers.0.self_attn.q_proj.bias'") == true, "\(String(describing: error))")
    }

    func testMissingConfigAndTokenizerAreErrorsNamingThem() throws {
        let url = try write(tinyModel(qwen2: false), to: "files")
        for name in ["tokenizer.gguf", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
        let missing = loadError(url)
        XCTAssertEqual(missing?.file, url.path)
        XCTAssertTrue(missing?.problem.contains("holds no tokenizer.json (nor tokenizer.gguf)") == true, "\(String(describing: missing))")
        try FileManager.default.removeItem(at: url.appendingPathComponent("config.json"))
        XCTAssertEqual(loadError(url)?.file, url.appendingPathComponent("config.json").path)
    }
}
