import BIP
import Runtime
import TestSupport
import XCTest

/// The parameter accounting of the tiny model, worked out by hand, and what removing each kind of
/// unit saves.
final class ParameterAccountingTests: XCTestCase {
    func testTheCountsByHand() throws {
        let model = try TinyModel.loaded().model
        let accounting = ParameterAccounting(model)
        // Per layer: q and o 64 × 64 each, k and v 32 × 64 each (2 KV heads of 16); gate, up and
        // down 128 × 64 each; two norms of 64. Tied embedding 296 × 64 (3 specials, 256 bytes, 37
        // merges), final norm 64.
        XCTAssertEqual(model.tokenEmbedding.count, 296 * 64)
        XCTAssertEqual(accounting.attention, 4 * 12_288)
        XCTAssertEqual(accounting.mlp, 4 * 24_576)
        XCTAssertEqual(model.layers[0].parameterCount, 12_288 + 24_576 + 128)
        XCTAssertEqual(accounting.total, 296 * 64 + 4 * 36_992 + 64)
        let costs = UnitCosts(model.layers[0])
        XCTAssertEqual(costs.queryHead, 2 * 64 * 16)
        XCTAssertEqual(costs.channel, 3 * 64)
        XCTAssertEqual(costs.kvHead, 2 * 64 * 16)
        XCTAssertEqual(LayerRange.standard(layerCount: 4), 1..<4)
        XCTAssertEqual(LayerRange.standard(layerCount: 30), 4..<28)
        XCTAssertEqual(LayerRange.standard(layerCount: 32), 4..<30)
    }

    func testRemovingUnitsSavesExactlyTheirCost() throws {
        let model = try TinyModel.loaded().model
        let before = ParameterAccounting(model).total
        // One head of group 0, a whole group 1 (heads 2, 3: its KV head goes too), 10 channels.
        let plan = LayerPlan(layer: model.layers[2], removingHeads: [1, 2, 3], channels: Set(0..<10))
        let pruned = StructuralRemoval.apply([2: plan], to: model)
        XCTAssertEqual(pruned.layers[2].queryHeads, 1)
        XCTAssertEqual(pruned.layers[2].kvHeads, 1)
        XCTAssertEqual(pruned.layers[2].kvHeadOfQueryHead, [0])
        XCTAssertEqual(pruned.layers[2].ffnWidth, 118)
        XCTAssertEqual(before - ParameterAccounting(pruned).total, 3 * 2_048 + 2_048 + 10 * 192)
        XCTAssertEqual(plan.removedParameters(of: model.layers[2]), 4 * 2_048 + 10 * 192)
    }
}
