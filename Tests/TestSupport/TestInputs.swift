import Foundation
import Runtime

/// What several pruning tests share: the reference scores fixture and logit comparisons.
/// The model and the shared files come from `TestModel` (or `TinyModel`).
public enum TestInputs {
    nonisolated(unsafe) private static var cachedFixture: PruneScoresFixture?

    public static func fixture() throws -> PruneScoresFixture {
        if let cachedFixture { return cachedFixture }
        let data = try Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/prune-scores.json"))
        let fixture = try JSONDecoder().decode(PruneScoresFixture.self, from: data)
        cachedFixture = fixture
        return fixture
    }

    /// Logits of every position of `tokens`.
    public static func logits(_ model: LlamaModel, _ tokens: [Int]) -> [[Float]] {
        let forward = ForwardPass(model: model)
        return withExtendedLifetime(forward) {
            let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: model, slots: 1))
            return LanguageModelHead(model: model).logits(hidden, rows: Array(tokens.indices))
        }
    }

    public static func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> Double {
        zip(a, b).reduce(0.0) { worst, rows in zip(rows.0, rows.1).reduce(worst) { max($0, Double(abs($1.0 - $1.1))) } }
    }

    /// `max_i |a_i - b_i| / |b_i|`.
    public static func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0.0) { max($0, abs($1.0 - $1.1) / max(abs($1.1), 1e-300)) }
    }
}

/// `fixtures/smollm2/prune-scores.json`, the parts the tests read (the file is described in
/// docs/pruning-methods.md, "How the numbers are checked").
public struct PruneScoresFixture: Decodable {
    public struct Calibration: Decodable { public let ids: [[Int]] }
    public struct Layer: Decodable {
        public struct Stats: Decodable {
            public let A_sum_abs: [Double], A_sum: [Double], A_sum_sq: [Double]
            public let Z_sum_abs: [Double], Z_sum: [Double], Z_sum_sq: [Double]
            public let H_rms_mean: Double
        }
        public struct Intermediates: Decodable {
            public let c: [Double], r_bip: [Double], r_bip_gate: [Double], r_bip_norm: [Double], flap_o_channel_raw: [Double]
        }
        public let stats: Stats
        public let intermediates: Intermediates
        public let head_scores: [String: [Double]]
        public let head_order_ascending: [String: [Int]]
        public let channel_scores: [String: [Double]]
    }
    public struct Exactness: Decodable {
        public struct Channel: Decodable { public let channel: Int; public let measured_block_output_l1_change: Double; public let sF: Double }
        public let layer: Int
        public let N: Int
        public let ffn_channels: [Channel]
    }
    public let calibration: Calibration
    public let N: Int
    public let layers: [String: Layer]
    public let exactness_layer10: Exactness
}
