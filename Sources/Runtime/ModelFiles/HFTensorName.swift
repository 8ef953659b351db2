/// The Hugging Face names of a LLaMA-family model's tensors (`model.layers.L.self_attn.q_proj.weight`,
/// …), the one table a model directory is both read and written with.
public enum HFTensorName {
    public static let embedding = "model.embed_tokens.weight"
    public static let finalNorm = "model.norm.weight"
    public static let lmHead = "lm_head.weight"

    public static func attentionNorm(layer l: Int) -> String { "model.layers.\(l).input_layernorm.weight" }
    public static func ffnNorm(layer l: Int) -> String { "model.layers.\(l).post_attention_layernorm.weight" }

    /// A projection of a decoder layer, named as HF names its module (and as config.json's `bip`
    /// section lists a layer's biases). The cases are in the order a checkpoint holds them.
    public enum Projection: String, CaseIterable, Codable, Sendable {
        case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
        case gate = "gate_proj", up = "up_proj", down = "down_proj"

        public static let attention: [Projection] = [.q, .k, .v, .o]
        public static let mlp: [Projection] = [.gate, .up, .down]

        /// `model.layers.L.self_attn.q_proj` (without `.weight` / `.bias`).
        public func module(layer l: Int) -> String {
            "model.layers.\(l).\(Self.attention.contains(self) ? "self_attn" : "mlp").\(rawValue)"
        }

        public func weight(layer l: Int) -> String { module(layer: l) + ".weight" }
        public func bias(layer l: Int) -> String { module(layer: l) + ".bias" }

        /// This projection of `layer`.
        public func linear(of layer: DecoderLayer) -> Linear {
            switch self {
            case .q: layer.q
            case .k: layer.k
            case .v: layer.v
            case .o: layer.output
            case .gate: layer.gate
            case .up: layer.up
            case .down: layer.down
            }
        }
    }
}
