/// The merge side of a byte-level BPE vocabulary, working on symbol ids rather than strings.
/// A symbol id below `vocabularySize` is that token; symbols that merges can produce but the
/// vocabulary lacks get ids from `vocabularySize` up and are emitted as their bytes' tokens.
struct BPEModel: Sendable {
    /// What merging an adjacent pair produces, and the merge's priority (lower merges first).
    private struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    /// One adjacent pair waiting to be merged, ordered by rank, then leftmost first.
    private struct Candidate: Comparable {
        let rank: Int32
        /// Position of the left symbol; the right one is the symbol that follows it.
        let left: Int
        let leftSymbol: Int32
        let rightSymbol: Int32
        let result: Int32

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.left < b.left
        }
    }

    let vocabularySize: Int
    /// The symbol each byte starts as.
    private let byteSymbols: [Int32]
    /// Merges keyed by `pairKey(left, right)`.
    private let merges: [UInt64: Merge]
    /// The bytes of each symbol outside the vocabulary, indexed by id - `vocabularySize`.
    private let extraSymbolBytes: [[UInt8]]
    /// Token ids by byte-level spelling, when a piece spelling a whole token skips merging.
    private let wholeTokens: [String: Int32]?

    /// `tokens` are byte-level spellings; `merges` are "left right" lines, highest priority
    /// first (a repeated pair keeps its first rank). `source` names the data in errors.
    init(tokens: [String], merges mergeLines: [String], ignoresMerges: Bool, source: String) throws {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { ids[token] = Int32(id) }

        var extraIDs: [String: Int32] = [:]
        var extraBytes: [[UInt8]] = []
        func symbol(_ spelling: String) -> Int32 {
            if let id = ids[spelling] ?? extraIDs[spelling] { return id }
            let id = Int32(tokens.count + extraBytes.count)
            extraIDs[spelling] = id
            extraBytes.append(ByteUnicodeMap.decode(spelling))
            return id
        }

        let byteSymbols = ByteUnicodeMap.scalarForByte.map { symbol(String($0)) }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            let scalars = line.unicodeScalars
            guard let space = scalars.dropFirst().firstIndex(of: " "),
                  scalars.index(after: space) != scalars.endIndex else {
                throw FileError(source, "merge \(rank) is '\(line)', not two symbols separated by a space")
            }
            let left = String(scalars[..<space])
            let right = String(scalars[scalars.index(after: space)...])
            let key = Self.pairKey(symbol(left), symbol(right))
            if merges[key] == nil {
                merges[key] = Merge(rank: Int32(rank), result: symbol(left + right))
            }
        }

        self.vocabularySize = tokens.count
        self.byteSymbols = byteSymbols
        self.merges = merges
        self.extraSymbolBytes = extraBytes
        self.wholeTokens = ignoresMerges ? ids : nil
    }

    /// Appends the token ids of one pre-tokenizer piece, given as UTF-8 bytes, to `ids`.
    func appendTokens(of piece: ArraySlice<UInt8>, to ids: inout [Int]) {
        if let wholeTokens, let id = wholeTokens[ByteUnicodeMap.encode(piece)] {
            ids.append(Int(id))
            return
        }
        for symbol in merged(piece.map { byteSymbols[Int($0)] }) {
            if Int(symbol) < vocabularySize {
                ids.append(Int(symbol))
            } else {
                // Not a token: fall back to the tokens of its bytes (those the vocabulary has).
                for byte in extraSymbolBytes[Int(symbol) - vocabularySize] {
                    let byteSymbol = byteSymbols[Int(byte)]
                    if Int(byteSymbol) < vocabularySize { ids.append(Int(byteSymbol)) }
                }
            }
        }
    }

    /// `symbols` after repeatedly merging the adjacent pair of lowest rank (leftmost on ties)
    /// until no adjacent pair has a merge.
    private func merged(_ initial: [Int32]) -> [Int32] {
        let count = initial.count
        guard count > 1 else { return initial }
        var symbols = initial
        // A doubly linked list over positions; merging keeps the left position and unlinks
        // the right one. `count` marks the end, -1 the start.
        var next = Array(1...count)
        var previous = Array(-1..<(count - 1))
        var queue = MinHeap<Candidate>(capacity: count)

        func enqueuePair(at left: Int) {
            guard left >= 0, next[left] < count else { return }
            let leftSymbol = symbols[left], rightSymbol = symbols[next[left]]
            if let merge = merges[Self.pairKey(leftSymbol, rightSymbol)] {
                queue.push(Candidate(rank: merge.rank, left: left, leftSymbol: leftSymbol,
                                     rightSymbol: rightSymbol, result: merge.result))
            }
        }

        for position in 0..<(count - 1) { enqueuePair(at: position) }
        while let candidate = queue.pop() {
            let left = candidate.left, right = next[left]
            // Skip candidates made stale by earlier merges around them.
            guard symbols[left] == candidate.leftSymbol, right < count,
                  symbols[right] == candidate.rightSymbol else { continue }
            symbols[left] = candidate.result
            symbols[right] = -1
            next[left] = next[right]
            if next[right] < count { previous[next[right]] = left }
            enqueuePair(at: previous[left])
            enqueuePair(at: left)
        }

        var result: [Int32] = []
        var position = 0
        while position < count {
            result.append(symbols[position])
            position = next[position]
        }
        return result
    }

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}
