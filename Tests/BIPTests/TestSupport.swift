import BIP
import Foundation
import Runtime
import TestSupport
import XCTest

/// What several pruning tests share: the reference scores fixture and logit comparisons.
/// The model and the shared files come from `TestModel`.
enum TestInputs {
    nonisolated(unsafe) private static var cachedFixture: PruneScoresFixture?

    static func fixture() throws -> PruneScoresFixture {
        if let cachedFixture { return cachedFixture }
        let data = try Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/prune-scores.json"))
        let fixture = try JSONDecoder().decode(PruneScoresFixture.self, from: data)
        cachedFixture = fixture
        return fixture
    }

    /// The default model's reference tokenizations, `fixtures/smollm2/tokenizer-cases.json`.
    static func tokenizerCases() throws -> [(text: String, ids: [Int], special: Bool)] {
        struct Fixture: Decodable {
            struct Case: Decodable { let text: String; let ids: [Int]; let special_tokens: Bool }
            let cases: [Case]
        }
        let data = try Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/tokenizer-cases.json"))
        return try JSONDecoder().decode(Fixture.self, from: data).cases.map { ($0.text, $0.ids, $0.special_tokens) }
    }

    /// Logits of every position of `tokens`.
    static func logits(_ model: LlamaModel, _ tokens: [Int]) -> [[Float]] {
        let forward = ForwardPass(model: model)
        return withExtendedLifetime(forward) {
            let hidden = forward([SequenceInput(slot: 0, tokens: tokens)], cache: KVCache(model: model, slots: 1))
            return LanguageModelHead(model: model).logits(hidden, rows: Array(tokens.indices))
        }
    }

    static func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> Double {
        zip(a, b).reduce(0.0) { worst, rows in zip(rows.0, rows.1).reduce(worst) { max($0, Double(abs($1.0 - $1.1))) } }
    }

    /// `max_i |a_i - b_i| / |b_i|`.
    static func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0.0) { max($0, abs($1.0 - $1.1) / max(abs($1.1), 1e-300)) }
    }
}

/// `fixtures/smollm2/prune-scores.json`, the parts the tests read (the file is described in
/// docs/pruning-methods.md, "How the numbers are checked").
struct PruneScoresFixture: Decodable {
    struct Calibration: Decodable { let ids: [[Int]] }
    struct Layer: Decodable {
        struct Stats: Decodable {
            let A_sum_abs: [Double], A_sum: [Double], A_sum_sq: [Double]
            let Z_sum_abs: [Double], Z_sum: [Double], Z_sum_sq: [Double]
            let H_rms_mean: Double
        }
        struct Intermediates: Decodable {
            let c: [Double], r_bip: [Double], r_bip_gate: [Double], r_bip_norm: [Double], flap_o_channel_raw: [Double]
        }
        let stats: Stats
        let intermediates: Intermediates
        let head_scores: [String: [Double]]
        let head_order_ascending: [String: [Int]]
        let channel_scores: [String: [Double]]
    }
    struct Exactness: Decodable {
        struct Channel: Decodable { let channel: Int; let measured_block_output_l1_change: Double; let sF: Double }
        let layer: Int
        let N: Int
        let ffn_channels: [Channel]
    }
    let calibration: Calibration
    let N: Int
    let layers: [String: Layer]
    let exactness_layer10: Exactness
}
