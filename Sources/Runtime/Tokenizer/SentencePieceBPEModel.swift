/// The merge side of a SentencePiece BPE vocabulary (LLaMA-1/2, Vicuna), as sentencepiece and
/// llama.cpp's `llm_tokenizer_spm` do it: the text (spaces already written as U+2581) starts as
/// one symbol per UTF-8 character, the adjacent pair whose merge has the highest priority is
/// merged (leftmost on ties) until none applies, and a symbol that is not a token becomes the
/// `<0xNN>` tokens of its bytes (or the unknown token where the byte has none).
struct SentencePieceBPEModel: Sendable {
    /// Which merges exist and which go first.
    enum Priority: Sendable {
        /// A pair merges when its concatenation is a piece; the piece's score is the priority
        /// (higher first), as in a sentencepiece model or a GGUF `tokenizer.ggml.scores`.
        case scores([Float])
        /// Only the listed pairs merge, the earlier first, as in an HF `tokenizers` BPE model.
        /// Keyed by `pairKey(left, right)`.
        case ranks([UInt64: Merge])
    }

    /// What merging a pair produces, and the merge's rank (lower first).
    struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    /// A pair waiting to be merged, ordered by priority (higher first), then leftmost first.
    private struct Candidate: Comparable {
        let priority: Double
        let left: Int
        let right: Int
        /// The merged symbol's UTF-8 length, to recognise candidates made stale by other merges.
        let length: Int
        let result: Int32

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.priority != b.priority ? a.priority > b.priority : a.left < b.left
        }
    }

    /// Ids of the pieces merging can reach and text can start as (normal, user-defined and
    /// unused tokens; control, unknown and byte tokens are never spelled by text).
    private let pieceIDs: [ArraySlice<UInt8>: Int32]
    private let priority: Priority
    /// The `<0xNN>` token of each byte, or the unknown token where there is none.
    private let byteTokens: [Int32]

    /// `pieces` are the mergeable tokens' texts with their ids; `byteTokens` has 256 entries.
    init(pieces: [(text: String, id: Int)], priority: Priority, byteTokens: [Int32]) {
        var pieceIDs: [ArraySlice<UInt8>: Int32] = [:]
        pieceIDs.reserveCapacity(pieces.count)
        for piece in pieces where pieceIDs[Array(piece.text.utf8)[...]] == nil {
            pieceIDs[Array(piece.text.utf8)[...]] = Int32(piece.id)
        }
        self.pieceIDs = pieceIDs
        self.priority = priority
        self.byteTokens = byteTokens
    }

    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the token ids of `text`, UTF-8 with spaces already escaped, to `ids`.
    func appendTokens(of text: [UInt8], to ids: inout [Int]) {
        // Symbols are byte ranges of `text` in a doubly linked list over their start
        // positions; a merge keeps the left symbol and empties the right one.
        var starts: [Int] = []
        var offset = 0
        while offset < text.count {
            starts.append(offset)
            offset += min(Self.characterLength(leadByte: text[offset]), text.count - offset)
        }
        let count = starts.count
        guard count > 0 else { return }
        var lengths = (0..<count).map { (index: Int) -> Int in (index + 1 < count ? starts[index + 1] : text.count) - starts[index] }
        var symbolIDs = (0..<count).map { pieceIDs[text[starts[$0]..<(starts[$0] + lengths[$0])]] ?? -1 }
        var next = Array(1...count)
        var previous = Array(-1..<(count - 1))
        var queue = MinHeap<Candidate>(capacity: count)

        func enqueuePair(_ left: Int, _ right: Int) {
            guard left >= 0, right < count else { return }
            let length = lengths[left] + lengths[right]
            switch priority {
            case .scores(let scores):
                let start = starts[left]
                guard let id = pieceIDs[text[start..<(start + length)]] else { return }
                queue.push(Candidate(priority: Double(scores[Int(id)]), left: left, right: right, length: length, result: id))
            case .ranks(let merges):
                guard symbolIDs[left] >= 0, symbolIDs[right] >= 0,
                      let merge = merges[Self.pairKey(symbolIDs[left], symbolIDs[right])] else { return }
                queue.push(Candidate(priority: -Double(merge.rank), left: left, right: right, length: length, result: merge.result))
            }
        }

        for index in 0..<(count - 1) { enqueuePair(index, index + 1) }
        while let candidate = queue.pop() {
            let left = candidate.left, right = candidate.right
            guard lengths[left] > 0, lengths[right] > 0, next[left] == right,
                  lengths[left] + lengths[right] == candidate.length else { continue }
            lengths[left] = candidate.length
            lengths[right] = 0
            symbolIDs[left] = candidate.result
            next[left] = next[right]
            if next[right] < count { previous[next[right]] = left }
            enqueuePair(previous[left], left)
            enqueuePair(left, next[left])
        }

        var index = 0
        while index < count {
            if symbolIDs[index] >= 0 {
                ids.append(Int(symbolIDs[index]))
            } else {
                for byte in text[starts[index]..<(starts[index] + lengths[index])] { ids.append(Int(byteTokens[Int(byte)])) }
            }
            index = next[index]
        }
    }

    /// The length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    private static func characterLength(leadByte: UInt8) -> Int {
        switch leadByte >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
