import Foundation

/// Where the calibration token ids come from: `--calibration c4:NxT | ptb:NxT | wikitext2:NxT`
/// (N sequences of T tokens) or `--calibration-ids FILE.json` (used exactly as given).
public enum CalibrationSource: Equatable, Sendable, CustomStringConvertible {
    case c4(sequences: Int, tokens: Int)
    case ptb(sequences: Int, tokens: Int)
    case wikitext2(sequences: Int, tokens: Int)
    case ids(path: String)

    /// The default of `bip prune`: 128 sequences of 128 tokens from C4.
    public static let standard = CalibrationSource.c4(sequences: 128, tokens: 128)

    /// Parses `NAME:NxT`, e.g. `c4:128x128`.
    public init(parsing spec: String) throws {
        let usage = "calibration '\(spec)' is not NAME:NxT with NAME one of c4, ptb, wikitext2 and N, T ≥ 1 (e.g. c4:128x128)"
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw PruningError(usage) }
        let shape = parts[1].split(separator: "x", omittingEmptySubsequences: false)
        guard shape.count == 2, let n = Int(shape[0]), let t = Int(shape[1]) else { throw PruningError(usage) }
        guard n >= 1, t >= 1 else {
            throw PruningError("calibration '\(spec)' is empty: it needs at least 1 sequence of at least 1 token")
        }
        switch parts[0] {
        case "c4": self = .c4(sequences: n, tokens: t)
        case "ptb": self = .ptb(sequences: n, tokens: t)
        case "wikitext2": self = .wikitext2(sequences: n, tokens: t)
        default: throw PruningError(usage)
        }
    }

    public var description: String {
        switch self {
        case .c4(let n, let t): return "c4:\(n)x\(t)"
        case .ptb(let n, let t): return "ptb:\(n)x\(t)"
        case .wikitext2(let n, let t): return "wikitext2:\(n)x\(t)"
        case .ids(let path): return "ids:\(path)"
        }
    }

    /// WikiText2 calibration draws from the test split, which the perplexity evaluation also uses.
    public var isTestData: Bool {
        if case .wikitext2 = self { return true }
        return false
    }
}
