import BIP
import Runtime
import TestSupport
import XCTest

/// The parameter accounting for SmolLM2-135M of docs/pruning-methods.md ("The block and its
/// units"), and what removing each kind of unit saves.
final class ParameterAccountingTests: XCTestCase {
    func testTheSpecNumbers() throws {
        let model = try TestModel.loaded().model
        let accounting = ParameterAccounting(model)
        XCTAssertEqual(accounting.total, 134_515_008)
        XCTAssertEqual(model.tokenEmbedding.count, 28_311_552)
        XCTAssertEqual(accounting.attention, 30 * 884_736)
        XCTAssertEqual(accounting.mlp, 30 * 2_654_208)
        XCTAssertEqual(model.layers[0].parameterCount, 3_540_096)
        let costs = UnitCosts(model.layers[0])
        XCTAssertEqual(costs.queryHead, 73_728)
        XCTAssertEqual(costs.channel, 1_728)
        XCTAssertEqual(costs.kvHead, 73_728)
        XCTAssertEqual(LayerRange.standard(layerCount: 30), 4..<28)
        XCTAssertEqual(LayerRange.standard(layerCount: 32), 4..<30)
    }

    func testRemovingUnitsSavesExactlyTheirCost() throws {
        let model = try TestModel.loaded().model
        let before = ParameterAccounting(model).total
        // One head of group 0, a whole group 2 (heads 6, 7, 8: its KV head goes too), 10 channels.
        let plan = LayerPlan(layer: model.layers[7], removingHeads: [1, 6, 7, 8], channels: Set(0..<10))
        let pruned = StructuralRemoval.apply([7: plan], to: model)
        XCTAssertEqual(pruned.layers[7].queryHeads, 5)
        XCTAssertEqual(pruned.layers[7].kvHeads, 2)
        XCTAssertEqual(pruned.layers[7].kvHeadOfQueryHead, [0, 0, 1, 1, 1])
        XCTAssertEqual(pruned.layers[7].ffnWidth, 1526)
        XCTAssertEqual(before - ParameterAccounting(pruned).total, 4 * 73_728 + 73_728 + 10 * 1_728)
        XCTAssertEqual(plan.removedParameters(of: model.layers[7]), 5 * 73_728 + 10 * 1_728)
    }
}
