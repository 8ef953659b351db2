import Kernels
import Gradients
import Runtime
@testable import TestSupport
import XCTest

/// `--compute bf16`: preparing a model packs its projections and nothing else, and its forward
/// pass computes what the Float64 reference computes with BF16-rounded weights and projection
/// inputs, not the Float32 result.
final class ComputePrecisionTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ComputePrecision.bf16.isAvailable, "oneDNN has no BF16 matmul on this CPU (no AVX-512)")
    }

    /// bf16 packs every projection as BF16; fp32 packs them as Float32 (where the CPU has oneDNN's
    /// AVX-512 Float32 matmul) with every element kept.
    func testPreparingPacksEveryProjectionAndNothingElse() throws {
        let loaded = try TinyModel.loaded()
        var fp32 = loaded, bf16 = loaded
        try fp32.prepare(for: .fp32)
        try bf16.prepare(for: .bf16)
        let fp32Packing: PackedMatmul.Operands? = PackedMatmul.isAvailable(.float32) ? .float32 : nil
        for ((plain, float32), packed) in zip(zip(loaded.model.layers, fp32.model.layers), bf16.model.layers) {
            for (a, f, b) in [(plain.qkv, float32.qkv, packed.qkv), (plain.output, float32.output, packed.output),
                              (plain.gateUp, float32.gateUp, packed.gateUp), (plain.down, float32.down, packed.down)] {
                XCTAssertNil(a.weight.packing)
                XCTAssertEqual(f.weight.packing, fp32Packing)
                XCTAssertEqual(f.weight, a.weight)
                XCTAssertEqual(b.weight.packing, .bfloat16)
                XCTAssertTrue((b.weight.rows, b.weight.columns) == (a.weight.rows, a.weight.columns))
            }
            XCTAssertEqual(packed.attentionNorm, plain.attentionNorm)
            XCTAssertEqual(packed.ffnNorm, plain.ffnNorm)
        }
        XCTAssertEqual(bf16.model.tokenEmbedding, loaded.model.tokenEmbedding)
        XCTAssertEqual(bf16.model.parameterCount, loaded.model.parameterCount)
    }

    /// Next-token log-probabilities at 46 positions of the tiny model: the BF16 path lands on the
    /// BF16 reference, far closer than the Float32 reference is to it. Compared by medians over
    /// the positions: where a Float32 and a Float64 activation straddle a BF16 rounding boundary
    /// they round apart, and this peaked model turns such a flip into a visible change of that
    /// position's log-probability (one position in 46 here).
    func testTheBF16ForwardComputesRoundedWeightsTimesRoundedInputs() throws {
        let model = try TinyModel.loaded().model
        var packed = model
        try packed.prepare(for: .bf16)
        let bf16Reference = ReferenceModel(model, bfloat16: true), fp32Reference = ReferenceModel(model)
        var fromReference: [Double] = [], effect: [Double] = []
        for s in 0..<2 {
            let tokens = (0..<24).map { (s * 131 + $0 * 37) % TinyModel.vocabularySize }
            let got = NextTokenScores(model: packed, tokens: tokens).nextTokenLogProbs
            for t in got.indices {
                let targets = got.indices.map { $0 == t ? tokens[t + 1] : -1 }
                let sequence = TrainingSequence(tokens: Array(tokens.dropLast()), targets: targets)
                let bf16 = -bf16Reference.lossSum(sequence), fp32 = -fp32Reference.lossSum(sequence)
                fromReference.append(abs(got[t] - bf16))
                effect.append(abs(bf16 - fp32))
            }
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        XCTAssertGreaterThan(median(effect), 1e-3, "the rounding changes the log-probabilities measurably on this model")
        XCTAssertLessThan(median(fromReference), median(effect) / 100, "per position: bf16 path against bf16 reference \(fromReference), bf16 reference against fp32 reference \(effect)")
    }
}
