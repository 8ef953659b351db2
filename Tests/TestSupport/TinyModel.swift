import Foundation
import Runtime

/// A seeded random LLaMA model small enough to run in milliseconds, with every feature the
/// mechanics need: 4 layers, hidden size 64, 4 query heads of 16 over 2 KV heads (GQA), FFN 128,
/// an embedding tied to the LM head, RMSNorm and RoPE, and a small byte-level BPE vocabulary
/// (pre-tokenizer `smollm`): `<|endoftext|>` 0, BOS `<|im_start|>` 1, EOS `<|im_end|>` 2, the 256
/// byte symbols, then a few English merges, so any text (every data set's) encodes.
///
/// `path()` writes it as an F32 GGUF file with its tokenizer metadata into a temporary directory,
/// once per test process (removed at exit), the same bytes every time; tests and the `bip`
/// executable load it with `--model PATH`.
public enum TinyModel {
    public static let layerCount = 4
    public static let hiddenSize = 64
    public static let queryHeads = 4
    public static let kvHeads = 2
    public static let headDim = hiddenSize / queryHeads
    public static let ffnWidth = 128
    public static let bosID = 1
    public static let eosID = 2

    /// Merges in the vocabulary's byte-level spelling (`Ġ` is a space), lowest rank first.
    static let merges = ["Ġ t", "h e", "i n", "Ġ a", "e r", "o n", "r e", "a n", "e n", "a t", "Ġ s", "Ġ w", "Ġ o", "i s",
                         "o r", "e d", "i t", "a r", "e s", "in g", "Ġ c", "Ġ b", "Ġ f", "Ġ p", "Ġ m", "o u", "a l", "Ġ i",
                         "n d", "Ġt he", "Ġ h", "Ġo f", "Ġa nd", "Ġt o", "Ġ in", "l l", "Ġ d"]

    /// Every token: the three specials, the 256 byte symbols in byte order (GPT-2's byte-to-scalar
    /// map), then one per merge.
    public static let tokens: [String] = {
        var next: UInt32 = 0x100
        let bytes = (0..<256 as Range<UInt32>).map { byte -> String in
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            defer { if !printable { next += 1 } }
            return String(Unicode.Scalar(printable ? byte : next)!)
        }
        return ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + bytes + merges.map { $0.replacingOccurrences(of: " ", with: "") }
    }()

    public static var vocabularySize: Int { tokens.count }

    /// The GGUF file's contents: metadata and F32 tensors from a fixed seed.
    static func file() -> GGUFWriterForTests {
        var generator = SeededGenerator(seed: 13)
        func uniform(_ count: Int, _ scale: Float) -> [Float] {
            (0..<count).map { _ in (Float(generator.unit()) * 2 - 1) * scale }
        }
        var writer = GGUFWriterForTests()
        /// A tensor of HF shape `[rows, columns]` (GGUF dims innermost first).
        func add(_ name: String, _ shape: [Int], _ values: [Float]) {
            writer.tensors.append(.init(name: name, dims: shape.reversed().map(UInt64.init), type: 0,
                                        data: GGUFWriterForTests.f32Bytes(values)))
        }
        func projection(_ name: String, out: Int, in inputs: Int) {
            add(name, [out, inputs], uniform(out * inputs, (3 / Float(inputs)).squareRoot()))
        }
        func norm(_ name: String) { add(name, [hiddenSize], uniform(hiddenSize, 0.1).map { 1 + $0 }) }

        let d = hiddenSize, q = queryHeads * headDim, kv = kvHeads * headDim
        add("token_embd.weight", [vocabularySize, d], uniform(vocabularySize * d, 1))
        for l in 0..<layerCount {
            norm("blk.\(l).attn_norm.weight")
            projection("blk.\(l).attn_q.weight", out: q, in: d)
            projection("blk.\(l).attn_k.weight", out: kv, in: d)
            projection("blk.\(l).attn_v.weight", out: kv, in: d)
            projection("blk.\(l).attn_output.weight", out: d, in: q)
            norm("blk.\(l).ffn_norm.weight")
            projection("blk.\(l).ffn_gate.weight", out: ffnWidth, in: d)
            projection("blk.\(l).ffn_up.weight", out: ffnWidth, in: d)
            projection("blk.\(l).ffn_down.weight", out: d, in: ffnWidth)
        }
        norm("output_norm.weight")

        let types = tokens.indices.map { $0 < 3 ? TokenType.control : TokenType.normal }
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.name", .string("tiny-llama")),
            ("llama.block_count", .uint32(UInt32(layerCount))),
            ("llama.context_length", .uint32(2048)),
            ("llama.embedding_length", .uint32(UInt32(d))),
            ("llama.feed_forward_length", .uint32(UInt32(ffnWidth))),
            ("llama.attention.head_count", .uint32(UInt32(queryHeads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("llama.rope.freq_base", .float32(10000)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32(Int32($0.rawValue)) })),
            ("tokenizer.ggml.merges", .array(merges.map { .string($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(UInt32(bosID))),
            ("tokenizer.ggml.eos_token_id", .uint32(UInt32(eosID))),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]
        writer.metadata = metadata.map { .value($0.0, $0.1) }
        return writer
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var written: String?
    nonisolated(unsafe) private static var cached: LoadedModel?

    /// The directory the file is written to, this process's own.
    private static let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("bip-tiny-model-\(ProcessInfo.processInfo.processIdentifier)")

    /// The path of the model's GGUF file, written on first use.
    public static func path() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        return try writtenPath()
    }

    private static func writtenPath() throws -> String {
        if let written { return written }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = try file().write(to: directory.appendingPathComponent("tiny-llama.gguf").path)
        atexit { try? FileManager.default.removeItem(at: TinyModel.directory) }
        written = path
        return path
    }

    /// The model with its tokenizer, loaded once per test process.
    public static func loaded() throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let path = try writtenPath()
        let gguf = try GGUFFile(path: path)
        let loaded = LoadedModel(path: path, model: try GGUFModelLoader.load(gguf), tokenizer: try ByteLevelBPETokenizer(gguf: gguf))
        cached = loaded
        return loaded
    }

    /// The model's GGUF file, opened (for its tokenizer metadata).
    public static func gguf() throws -> GGUFFile { try GGUFFile(path: path()) }
}
