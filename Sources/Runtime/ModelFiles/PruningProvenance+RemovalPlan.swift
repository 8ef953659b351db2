import Foundation

extension PruningProvenance {
    /// Identifies the pruned model by what was removed rather than by its weights (cheap, and the
    /// same whatever the dtype): the sha256 of the source model's sha256 and, per pruned layer in
    /// layer order, the query heads and FFN channels kept. Two models with equal hashes are the
    /// same model, whichever methods chose the units. Bias compensation adds biases that depend
    /// on the calibration data and its statistics pass, so a compensated model's hash takes those
    /// in too; a directory that did not record whether it compensated takes its method in, so it
    /// matches no other method.
    public var removalPlanHash: String {
        var text = "removal plan|\(sourceSHA256)"
        for (layer, units) in kept.sorted(by: { $0.key < $1.key }) {
            text += "|\(layer):" + units.queryHeads.map(String.init).joined(separator: ",")
                + ";" + units.ffnChannels.map(String.init).joined(separator: ",")
        }
        switch biasCompensation {
        case false?: break
        case true?: text += "|compensated from \(calibration ?? "-") seed \(seed) statistics \(statistics ?? "-")"
        case nil: text += "|compensation not recorded: \(method)"
        }
        return SHA256.hex(of: Data(text.utf8))
    }
}
