import Foundation
import Runtime
import Tasks

/// The token ids of a calibration run, and how they were drawn.
///
/// The draws, all deterministic for a given seed (`SeededGenerator`, SplitMix64):
/// - `c4:NxT`: the lines of `c4/c4-en-train.00000-of-01024.first1000.jsonl` are visited in the
///   order of a seeded Fisher–Yates permutation of their 0-based line numbers. Each visited
///   document's `text` is tokenized alone (no BOS, special-token strings as plain text); a
///   document with fewer than T tokens is skipped; otherwise its first T tokens are one sequence.
///   The first N documents that qualify are used, in visiting order.
/// - `ptb:NxT`: the lines of `ptb/ptb.train.txt`, each stripped of surrounding whitespace, empty
///   ones dropped, joined with single spaces (LLM-Pruner's `" ".join(sentences)`), tokenized once;
///   N window starts are drawn uniformly from `0...(count - T)`, each window is T tokens.
/// - `wikitext2:NxT`: the same windows over `wikitext2/wikitext-2-raw-v1.test.joined.txt`, the
///   test split (flagged as test data: it overlaps the perplexity evaluation).
/// - `ids`: a JSON array of token-id arrays, used exactly.
public struct CalibrationSet: Sendable {
    public let source: CalibrationSource
    public let seed: UInt64
    public let sequences: [[Int]]
    /// Per sequence, where it came from (e.g. `c4 line 17`, `ptb token 20480`).
    public let origins: [String]

    public init(source: CalibrationSource, seed: UInt64, sequences: [[Int]], origins: [String]) {
        self.source = source
        self.seed = seed
        self.sequences = sequences
        self.origins = origins
    }

    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }
    public var isTestData: Bool { source.isTestData }

    public static let c4File = "c4/c4-en-train.00000-of-01024.first1000.jsonl"
    public static let ptbFile = "ptb/ptb.train.txt"
    public static let wikitext2File = "wikitext2/wikitext-2-raw-v1.test.joined.txt"

    /// Draws the calibration sequences of `source` (see the type's documentation).
    public static func draw(_ source: CalibrationSource, seed: UInt64, tokenizer: any Tokenizer,
                            data: DataDirectory) throws -> CalibrationSet {
        var generator = SeededGenerator(seed: seed)
        switch source {
        case .c4(let n, let t):
            let lines = try textLines(data.file(c4File))
            var sequences: [[Int]] = [], origins: [String] = []
            for line in generator.permutation(lines.count) where sequences.count < n {
                let text = try documentText(lines[line], line: line)
                let ids = tokenizer.encode(text, parseSpecial: false)
                guard ids.count >= t else { continue }
                sequences.append(Array(ids.prefix(t)))
                origins.append("c4 line \(line)")
            }
            guard sequences.count == n else {
                throw PruningError("\(c4File) has only \(sequences.count) documents of at least \(t) tokens; ask for at most c4:\(sequences.count)x\(t)")
            }
            return CalibrationSet(source: source, seed: seed, sequences: sequences, origins: origins)
        case .ptb(let n, let t):
            let text = try textLines(data.file(ptbFile))
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                .joined(separator: " ")
            return try windows(source, seed: seed, ids: tokenizer.encode(text, parseSpecial: false),
                               count: n, length: t, name: "ptb", generator: &generator)
        case .wikitext2(let n, let t):
            let text = try readText(data.file(wikitext2File))
            return try windows(source, seed: seed, ids: tokenizer.encode(text, parseSpecial: false),
                               count: n, length: t, name: "wikitext2", generator: &generator)
        case .ids(let path):
            return CalibrationSet(source: source, seed: seed, sequences: try idsFile(path),
                                  origins: [])
        }
    }

    /// A JSON array of non-empty token-id arrays.
    public static func idsFile(_ path: String) throws -> [[Int]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PruningError("\(path): cannot read the calibration ids file")
        }
        guard let sequences = try? JSONDecoder().decode([[Int]].self, from: data) else {
            throw PruningError("\(path): not a JSON array of token-id arrays, e.g. [[1, 2, 3], [4, 5]]")
        }
        guard !sequences.isEmpty, sequences.allSatisfy({ !$0.isEmpty }) else {
            throw PruningError("\(path): the calibration ids are empty; give at least one non-empty sequence")
        }
        return sequences
    }

    private static func windows(_ source: CalibrationSource, seed: UInt64, ids: [Int], count: Int, length: Int,
                                name: String, generator: inout SeededGenerator) throws -> CalibrationSet {
        guard ids.count >= length else {
            throw PruningError("\(name) has only \(ids.count) tokens, fewer than one window of \(length)")
        }
        let starts = (0..<count).map { _ in generator.index(below: ids.count - length + 1) }
        return CalibrationSet(source: source, seed: seed,
                              sequences: starts.map { Array(ids[$0..<($0 + length)]) },
                              origins: starts.map { "\(name) token \($0)" })
    }

    private static func readData(_ url: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PruningError("\(url.path): calibration data not found (set --data or $BIP_DATA)")
        }
        return data
    }

    private static func readText(_ url: URL) throws -> String { String(decoding: try readData(url), as: UTF8.self) }

    /// The lines of a text file, split at "\n" bytes; a final newline does not start another line.
    private static func textLines(_ url: URL) throws -> [String] {
        var pieces = try readData(url).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        return pieces.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func documentText(_ line: String, line number: Int) throws -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let text = object["text"] as? String else {
            throw PruningError("\(c4File) line \(number + 1): not a JSON object with a string 'text'")
        }
        return text
    }
}
