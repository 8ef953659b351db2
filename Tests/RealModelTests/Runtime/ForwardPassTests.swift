import Foundation
import Runtime
import TestSupport
import XCTest

/// The forward pass against the reference logits and calibration statistics of the default model.
final class ForwardPassTests: XCTestCase {
    func model() throws -> LlamaModel { try TestModel.loaded().model }

    struct LogitsCase: Decodable {
        let name: String
        let ids: [Int]
        let last_logits: [Double]
        let next_token_logprobs: [Double]
        let mean_nll: Double
        let argmax_per_position: [Int]
    }

    func logitsCases() throws -> [LogitsCase] {
        struct File: Decodable { let cases: [LogitsCase] }
        let data = try Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/logits-cases.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }

    /// Fixture tolerance: max |Δlogit| ≤ 2e-3, |Δ mean NLL| ≤ 1e-4, argmax identical everywhere.
    func testLogitsMatchTheReferenceForwardPass() throws {
        let model = try model()
        let cases = try logitsCases()
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let scores = NextTokenScores(model: model, tokens: c.ids)
            XCTAssertEqual(scores.lastLogits.count, c.last_logits.count)
            var worst = 0.0
            for (mine, reference) in zip(scores.lastLogits, c.last_logits) { worst = max(worst, abs(Double(mine) - reference)) }
            XCTAssertLessThanOrEqual(worst, 2e-3, "\(c.name): max |logit difference| at the last position")
            let meanNLL = -scores.nextTokenLogProbs.reduce(0, +) / Double(scores.nextTokenLogProbs.count)
            XCTAssertEqual(meanNLL, c.mean_nll, accuracy: 1e-4, "\(c.name): mean NLL")
            XCTAssertEqual(scores.argmax, c.argmax_per_position, "\(c.name): argmax per position")
            for (i, (mine, reference)) in zip(scores.nextTokenLogProbs, c.next_token_logprobs).enumerated() {
                XCTAssertEqual(mine, reference, accuracy: 2e-3, "\(c.name): log p of token \(i + 1)")
            }
        }
    }

    /// A ragged batch, and a prefix run once then continued through the KV cache, give the same
    /// log-probabilities as each sequence run alone.
    func testBatchingAndKVCacheReuseDoNotChangeResults() throws {
        let model = try model()
        let cases = try logitsCases()
        let forward = ForwardPass(model: model)
        let head = LanguageModelHead(model: model)
        func alone(_ ids: [Int]) -> [Double] {
            let hidden = forward([SequenceInput(slot: 0, tokens: ids)], cache: KVCache(model: model, slots: 1))
            return head.logProbabilities(hidden, rows: Array(0..<(ids.count - 1)), targets: Array(ids.dropFirst()))
        }
        let expected = cases.map { alone($0.ids) }

        // All three cases in one ragged batch.
        let cache = KVCache(model: model, slots: 3, capacity: 8)
        let hidden = forward(cases.enumerated().map { SequenceInput(slot: $0.offset, tokens: $0.element.ids) }, cache: cache)
        var first = 0
        for (i, c) in cases.enumerated() {
            let rows = Array(first..<(first + c.ids.count - 1))
            let batched = head.logProbabilities(hidden, rows: rows, targets: Array(c.ids.dropFirst()))
            for (a, b) in zip(batched, expected[i]) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(c.name) in a batch") }
            first += c.ids.count
        }

        // The long case as a 150-token prefix, copied into two slots, each continued with the rest.
        let ids = cases[2].ids
        let split = 150
        let prefixCache = KVCache(model: model, slots: 2)
        let prefixHidden = forward([SequenceInput(slot: 0, tokens: Array(ids[..<split]))], cache: prefixCache)
        let prefixScores = head.logProbabilities(prefixHidden, rows: Array(0..<(split - 1)), targets: Array(ids[1..<split]))
        prefixCache.copy(from: 0, to: 1, length: split)
        let rest = Array(ids[split...])
        let restHidden = forward([SequenceInput(slot: 0, tokens: rest), SequenceInput(slot: 1, tokens: rest)], cache: prefixCache)
        for copy in 0..<2 {
            let rows = Array((copy * rest.count)..<((copy + 1) * rest.count - 1))
            let continued = head.logProbabilities(restHidden, rows: rows, targets: Array(rest.dropFirst()))
            let combined = prefixScores + [expected[2][split - 1]] + continued
            for (i, (a, b)) in zip(combined, expected[2]).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-4, "cached continuation, copy \(copy), token \(i + 1)")
            }
        }
        XCTAssertEqual(prefixCache.lengths, [ids.count, ids.count])
    }

    /// The loader's un-permutation of attn_q: HF rotate-half RoPE on the loaded rows equals
    /// llama.cpp's adjacent-pair RoPE on the rows as stored in the GGUF.
    func testRoPEConventionOfTheLoaderMatchesTheGGUFLayout() throws {
        let gguf = try TestModel.gguf()
        let stored = try gguf.floats(try gguf.requireTensor("blk.3.attn_q.weight"))
        let model = try model()
        let loaded = model.layers[3].q.weight.floats
        let d = 576, hd = 64, half = 32, heads = 9
        let x = (0..<d).map { Float(sin(Double($0) * 0.37)) }
        func project(_ w: [Float]) -> [Double] {
            (0..<(heads * hd)).map { r in (0..<d).reduce(0.0) { $0 + Double(w[r * d + $1]) * Double(x[$1]) } }
        }
        let qStored = project(stored), qLoaded = project(loaded)
        let position = 37.0
        for h in 0..<heads {
            for i in 0..<half {
                let angle = position * pow(100000.0, -2 * Double(i) / Double(hd))
                // llama.cpp: pair (2i, 2i+1) of the stored rows.
                let a = qStored[h * hd + 2 * i], b = qStored[h * hd + 2 * i + 1]
                let storedFirst = a * cos(angle) - b * sin(angle), storedSecond = b * cos(angle) + a * sin(angle)
                // bip: pair (i, i + 32) of the loaded rows.
                let c = qLoaded[h * hd + i], e = qLoaded[h * hd + i + half]
                let loadedFirst = c * cos(angle) - e * sin(angle), loadedSecond = e * cos(angle) + c * sin(angle)
                XCTAssertEqual(loadedFirst, storedFirst, accuracy: 1e-9, "head \(h) pair \(i)")
                XCTAssertEqual(loadedSecond, storedSecond, accuracy: 1e-9, "head \(h) pair \(i)")
            }
        }
    }

    /// Per-channel sums seen through the activation observer equal the reference calibration
    /// statistics (fixture tolerance: relative 1e-4 on Σ|x| and Σx²).
    func testActivationObserverSeesTheReferenceActivations() throws {
        struct Fixture: Decodable {
            struct Calibration: Decodable { let ids: [[Int]] }
            struct Layer: Decodable {
                struct Stats: Decodable {
                    let A_sum_abs: [Double], A_sum_sq: [Double], Z_sum_abs: [Double], Z_sum_sq: [Double]
                    let H_rms_mean: Double
                }
                let stats: Stats
            }
            let calibration: Calibration
            let layers: [String: Layer]
        }
        final class Sums: ActivationObserver {
            var sums: [String: [Double]] = [:]
            var rmsTotal: [Int: Double] = [:]
            var tokens = 0
            func observe(_ site: ActivationSite, layer: Int, rows: UnsafePointer<Float>, count: Int, width: Int) {
                if site == .blockOutput { return }
                if site == .ffnNormInput {
                    for r in 0..<count {
                        var sq = 0.0
                        for j in 0..<width { sq += Double(rows[r * width + j]) * Double(rows[r * width + j]) }
                        rmsTotal[layer, default: 0] += (sq / Double(width) + Double(Float(1e-5))).squareRoot()
                    }
                    if layer == 0 { tokens += count }
                    return
                }
                let name = site == .attentionOutputInput ? "A" : "Z"
                var abs = sums["\(name)\(layer)abs"] ?? [Double](repeating: 0, count: width)
                var sq = sums["\(name)\(layer)sq"] ?? [Double](repeating: 0, count: width)
                for r in 0..<count {
                    for j in 0..<width {
                        let v = Double(rows[r * width + j])
                        abs[j] += Swift.abs(v)
                        sq[j] += v * v
                    }
                }
                sums["\(name)\(layer)abs"] = abs
                sums["\(name)\(layer)sq"] = sq
            }
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: try TestModel.sharedFile("fixtures/smollm2/prune-scores.json")))
        let model = try model()
        let observer = Sums()
        let forward = ForwardPass(model: model)
        let ids = fixture.calibration.ids
        _ = forward(ids.enumerated().map { SequenceInput(slot: $0.offset, tokens: $0.element) },
                    cache: KVCache(model: model, slots: ids.count), observer: observer)
        XCTAssertEqual(observer.tokens, 256)
        for (key, layer) in fixture.layers {
            let l = Int(key)!
            let pairs: [(String, [Double])] = [("A\(l)abs", layer.stats.A_sum_abs), ("A\(l)sq", layer.stats.A_sum_sq),
                                               ("Z\(l)abs", layer.stats.Z_sum_abs), ("Z\(l)sq", layer.stats.Z_sum_sq)]
            for (name, reference) in pairs {
                let mine = try XCTUnwrap(observer.sums[name], name)
                var worst = 0.0
                for (a, b) in zip(mine, reference) { worst = max(worst, abs(a - b) / max(abs(b), 1e-30)) }
                XCTAssertLessThanOrEqual(worst, 1e-4, "layer \(l) \(name): max relative difference")
            }
            XCTAssertEqual(observer.rmsTotal[l]! / 256, layer.stats.H_rms_mean, accuracy: 1e-4 * layer.stats.H_rms_mean, "layer \(l) H_rms_mean")
        }
    }

    func testParameterCountMatchesTheSpecAccounting() throws {
        let model = try model()
        XCTAssertEqual(model.parameterCount, 134_515_008)
        XCTAssertEqual(model.tokenEmbedding.count, 28_311_552)
        XCTAssertEqual(model.layers[0].parameterCount, 3_540_096)
        XCTAssertNil(model.lmHead, "the default model ties its LM head to the embedding")
        XCTAssertEqual(model.layers[0].kvHeadOfQueryHead, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    }
}
