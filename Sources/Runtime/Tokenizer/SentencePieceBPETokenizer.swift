/// SentencePiece BPE as LLaMA-1/2 and Vicuna use it (sentencepiece, llama.cpp's SPM tokenizer,
/// HF `tokenizers` with a byte-fallback BPE): spaces become U+2581 "▁", a dummy prefix "▁" goes
/// before the text, characters are merged by score (or by merge rank) and characters without a
/// token fall back to `<0xNN>` byte tokens. User-defined tokens are always matched in the text
/// as single ids; control tokens (`<s>`, `</s>`) only with `parseSpecial`.
///
/// Immutable, so safe to use from several threads at once.
public struct SentencePieceBPETokenizer: Tokenizer {
    /// Where the dummy prefix "▁" goes.
    public enum SpacePrefix: Sendable, Equatable {
        /// Before every stretch of text between special tokens (llama.cpp's `add_space_prefix`,
        /// sentencepiece's dummy prefix, HF's `Prepend("▁")` normalizer).
        case everySegment
        /// HF's Metaspace pre-tokenizer: before a stretch of text that does not already start
        /// with a space; with `firstSegmentOnly` (`prepend_scheme: "first"`) only at the very
        /// start of the text, else (`"always"`) after special tokens too.
        case metaspace(firstSegmentOnly: Bool)
        /// Nowhere.
        case none
    }

    /// Which merges exist and which go first.
    public enum MergePriority: Sendable {
        /// One score per token: a pair merges when its concatenation is a token, higher scores
        /// first (GGUF `tokenizer.ggml.scores`, sentencepiece models).
        case scores([Float])
        /// Pairs of token texts, earlier first; only these pairs merge (HF `tokenizers` BPE).
        case mergeRanks([(left: String, right: String)])
    }

    public let addsBOS: Bool
    public let bosID: Int?
    public let eosID: Int?
    public let unknownID: Int?
    public let spacePrefix: SpacePrefix
    public var vocabularySize: Int { tokenBytes.count }

    private let model: SentencePieceBPEModel
    /// User-defined tokens, matched with or without `parseSpecial`.
    private let userDefinedTokens: SpecialTokenMatcher
    /// User-defined and control tokens, matched with `parseSpecial`.
    private let allSpecialTokens: SpecialTokenMatcher
    /// What each token decodes to.
    private let tokenBytes: [[UInt8]]
    /// Whether a token is text (normal, user-defined, unused) whose leading space may be the
    /// dummy prefix.
    private let isText: [Bool]

    static let spaceEscape: Unicode.Scalar = "\u{2581}"

    /// A tokenizer from vocabulary data: `tokens` as written in the vocabulary (spaces as "▁",
    /// bytes as `<0xNN>`), `tokenTypes` as GGUF token type numbers. Every byte needs a `<0xNN>`
    /// token of type byte unless there is an unknown token to stand for it. `source` names the
    /// data in errors.
    public init(tokens: [String], tokenTypes: [Int], priority: MergePriority, bosID: Int?, eosID: Int?,
                unknownID: Int?, addsBOS: Bool, spacePrefix: SpacePrefix, source: String = "tokenizer") throws {
        guard !tokens.isEmpty else { throw FileError(source, "the vocabulary has no tokens") }
        guard tokenTypes.count == tokens.count else {
            throw FileError(source, "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID), ("unknown", unknownID)] {
            if let id, !tokens.indices.contains(id) {
                throw FileError(source, "\(name) token id \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        let types = tokenTypes.map { TokenType(rawValue: $0) ?? .normal }
        let isText = types.map { $0 == .normal || $0 == .userDefined || $0 == .unused }

        var byteTokens = [Int32](repeating: -1, count: 256)
        var tokenBytes: [[UInt8]] = []
        tokenBytes.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if types[id] == .byte, let byte = Self.byteValue(token) {
                if byteTokens[Int(byte)] < 0 { byteTokens[Int(byte)] = Int32(id) }
                tokenBytes.append([byte])
            } else if isText[id] {
                tokenBytes.append(Array(String(String.UnicodeScalarView(token.unicodeScalars.map {
                    $0 == Self.spaceEscape ? " " : $0
                })).utf8))
            } else {
                tokenBytes.append(Array(token.utf8))
            }
        }
        if let missing = byteTokens.firstIndex(of: -1) {
            guard let unknownID else {
                throw FileError(source, String(format: "the vocabulary has no byte token <0x%02X> and no unknown token to stand for it", missing))
            }
            byteTokens = byteTokens.map { $0 < 0 ? Int32(unknownID) : $0 }
        }

        let pieces = tokens.indices.filter { isText[$0] }.map { (text: tokens[$0], id: $0) }
        let modelPriority: SentencePieceBPEModel.Priority
        switch priority {
        case .scores(let scores):
            guard scores.count == tokens.count else {
                throw FileError(source, "\(scores.count) scores for \(tokens.count) tokens")
            }
            modelPriority = .scores(scores)
        case .mergeRanks(let pairs):
            modelPriority = .ranks(try Self.merges(pairs, pieces: pieces, source: source))
        }
        model = SentencePieceBPEModel(pieces: pieces, priority: modelPriority, byteTokens: byteTokens)
        userDefinedTokens = SpecialTokenMatcher(tokens: tokens.indices.filter { types[$0] == .userDefined }.map { (tokens[$0], $0) })
        allSpecialTokens = SpecialTokenMatcher(tokens: tokens.indices.filter { types[$0] == .userDefined || types[$0] == .control }
            .map { (tokens[$0], $0) })
        self.tokenBytes = tokenBytes
        self.isText = isText
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.addsBOS = addsBOS
        self.spacePrefix = spacePrefix
    }

    /// The byte a `<0xNN>` token stands for, or nil when `token` is not one.
    static func byteValue(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// Merges keyed by the token ids of their two sides; both sides and their concatenation
    /// must be text tokens. A repeated pair keeps its first rank.
    private static func merges(_ pairs: [(left: String, right: String)], pieces: [(text: String, id: Int)],
                               source: String) throws -> [UInt64: SentencePieceBPEModel.Merge] {
        // Keyed by exact UTF-8: vocabularies hold canonically equivalent spellings as distinct tokens.
        var ids: [[UInt8]: Int32] = [:]
        for piece in pieces where ids[Array(piece.text.utf8)] == nil { ids[Array(piece.text.utf8)] = Int32(piece.id) }
        var merges: [UInt64: SentencePieceBPEModel.Merge] = [:]
        merges.reserveCapacity(pairs.count)
        for (rank, pair) in pairs.enumerated() {
            let left = Array(pair.left.utf8), right = Array(pair.right.utf8)
            guard let leftID = ids[left], let rightID = ids[right], let result = ids[left + right] else {
                throw FileError(source, "merge \(rank) ('\(pair.left)', '\(pair.right)') uses or makes a piece that is not a text token of the vocabulary")
            }
            let key = SentencePieceBPEModel.pairKey(leftID, rightID)
            if merges[key] == nil { merges[key] = .init(rank: Int32(rank), result: result) }
        }
        return merges
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        let scalarText = ScalarText(text)
        let bytes = Array(text.utf8)
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count / 3)
        let matcher = parseSpecial ? allSpecialTokens : userDefinedTokens
        // After a special token the next text gets the prefix again, as in llama.cpp.
        var followsSpecial = true
        for segment in matcher.segments(of: scalarText) {
            switch segment {
            case .special(let id):
                ids.append(id)
                followsSpecial = true
            case .text(let range):
                let prefixed: Bool
                switch spacePrefix {
                case .everySegment: prefixed = followsSpecial
                case .metaspace(let firstSegmentOnly):
                    prefixed = (firstSegmentOnly ? range.lowerBound == 0 : followsSpecial) && scalarText.scalars[range.lowerBound] != " "
                case .none: prefixed = false
                }
                var escaped: [UInt8] = prefixed ? [0xE2, 0x96, 0x81] : []
                for byte in bytes[scalarText.byteRange(of: range)] {
                    if byte == 0x20 { escaped += [0xE2, 0x96, 0x81] } else { escaped.append(byte) }
                }
                model.appendTokens(of: escaped, to: &ids)
                followsSpecial = false
            }
        }
        return ids
    }

    /// The text of `ids`: "▁" becomes a space, byte tokens their bytes, and the one leading
    /// space the dummy prefix put before a text token at the start is removed. Ids outside the
    /// vocabulary are skipped; byte sequences that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        var first = true
        for id in ids where tokenBytes.indices.contains(id) {
            var piece = tokenBytes[id][...]
            if first, spacePrefix != .none, isText[id], piece.first == 0x20 { piece = piece.dropFirst() }
            bytes.append(contentsOf: piece)
            first = false
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
