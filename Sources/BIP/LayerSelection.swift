/// The layers a pruning may touch as given (`--layers all | A..<B`), before it meets a model:
/// `range(layerCount:)` resolves it. Written and read as that same text.
public enum LayerSelection: Hashable, Sendable, Codable, CustomStringConvertible {
    case all
    case range(Range<Int>)

    /// Parses `all` or `A..<B` with 0 ≤ A < B.
    public init(parsing text: String) throws {
        if text == "all" { self = .all; return }
        let parts = text.components(separatedBy: "..<")
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), 0 <= a, a < b else {
            throw PruningError("--layers '\(text)' is not 'all' or A..<B with 0 ≤ A < B")
        }
        self = .range(a..<b)
    }

    /// The layers of a model of `layerCount` layers; a range beyond them is an error.
    public func range(layerCount: Int) throws -> Range<Int> {
        switch self {
        case .all: return 0..<layerCount
        case .range(let range):
            guard range.upperBound <= layerCount else {
                throw PruningError("--layers '\(self)' is not 'all' or A..<B with 0 ≤ A < B ≤ \(layerCount)")
            }
            return range
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .range(let range): return "\(range.lowerBound)..<\(range.upperBound)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
