/// The decoder layers `bip prune` may touch (`--layers all | A..<B`).
/// The default is the LLM-Pruner range scaled to the model: skip the first round(L/8) and the
/// last round(L/16) layers (32 layers: 4..<30; SmolLM2's 30 layers: 4..<28).
public enum LayerRange {
    public static func standard(layerCount l: Int) -> Range<Int> {
        let first = Int((Double(l) / 8).rounded()), last = Int((Double(l) / 16).rounded())
        return first..<max(first, l - last)
    }

    /// Parses `all` or `A..<B` against a model of `layerCount` layers; nil gives the default.
    public static func parse(_ text: String?, layerCount: Int) throws -> Range<Int> {
        guard let text else { return standard(layerCount: layerCount) }
        return try LayerSelection(parsing: text).range(layerCount: layerCount)
    }
}
