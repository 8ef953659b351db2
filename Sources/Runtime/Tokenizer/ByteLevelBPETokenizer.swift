import Foundation

/// GPT-2 style byte-level BPE, as llama.cpp and HF `tokenizers` do it: text is cut into pieces
/// by a `PreTokenizer`, each piece's UTF-8 bytes start as one symbol per byte, and adjacent
/// symbols are merged by rank until no merge applies. Optionally the strings of control and
/// user-defined tokens are first matched in the text and become their single ids.
///
/// `encode` keeps a cache of piece -> ids for the duration of one call, so the tokenizer is
/// immutable and safe to use from several threads at once.
public struct ByteLevelBPETokenizer: Tokenizer {
    public let addsBOS: Bool
    public let bosID: Int?
    public let eosID: Int?
    public let preTokenizer: PreTokenizer
    /// Whether text is put in Unicode normalization form C first (HF's `NFC` normalizer, Qwen2).
    public let appliesNFC: Bool
    public var vocabularySize: Int { tokenBytes.count }

    private let model: BPEModel
    private let specialTokens: SpecialTokenMatcher
    /// What each token decodes to.
    private let tokenBytes: [[UInt8]]

    /// A tokenizer from vocabulary data as a GGUF file holds it: `tokens` in byte-level
    /// spelling, `merges` as "left right" lines by priority, `tokenTypes` as GGUF token type
    /// numbers (one per token). `source` names the data in errors.
    public init(tokens: [String], merges: [String], tokenTypes: [Int], bosID: Int?, eosID: Int?,
                addsBOS: Bool, preTokenizer: PreTokenizer, appliesNFC: Bool = false, source: String = "tokenizer") throws {
        guard !tokens.isEmpty else { throw FileError(source, "the vocabulary has no tokens") }
        guard tokenTypes.count == tokens.count else {
            throw FileError(source, "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID)] {
            if let id, !tokens.indices.contains(id) {
                throw FileError(source, "\(name) token id \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        let rawTextTypes: Set<Int> = [TokenType.control.rawValue, TokenType.userDefined.rawValue]
        let isRawText = tokenTypes.map(rawTextTypes.contains)

        model = try BPEModel(tokens: tokens, merges: merges, ignoresMerges: preTokenizer.ignoresMerges, source: source)
        specialTokens = SpecialTokenMatcher(tokens: tokens.indices.filter { isRawText[$0] }.map { (tokens[$0], $0) })
        // Control and user-defined tokens are their own text; the others are byte-level spellings.
        tokenBytes = tokens.indices.map { isRawText[$0] ? Array(tokens[$0].utf8) : ByteUnicodeMap.decode(tokens[$0]) }
        self.bosID = bosID
        self.eosID = eosID
        self.addsBOS = addsBOS
        self.preTokenizer = preTokenizer
        self.appliesNFC = appliesNFC
    }

    public func encode(_ rawText: String, parseSpecial: Bool) -> [Int] {
        let text = appliesNFC ? rawText.precomposedStringWithCanonicalMapping : rawText
        let scalarText = ScalarText(text)
        let bytes = Array(text.utf8)
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count / 3)
        var cache: [ArraySlice<UInt8>: [Int]] = [:]
        var pieces: [Range<Int>] = []

        func encodePlainText(_ range: Range<Int>) {
            pieces.removeAll(keepingCapacity: true)
            preTokenizer.split(scalarText, range, into: &pieces)
            for piece in pieces {
                let pieceBytes = bytes[scalarText.byteRange(of: piece)]
                if let cached = cache[pieceBytes] {
                    ids.append(contentsOf: cached)
                } else {
                    var pieceIDs: [Int] = []
                    model.appendTokens(of: pieceBytes, to: &pieceIDs)
                    cache[pieceBytes] = pieceIDs
                    ids.append(contentsOf: pieceIDs)
                }
            }
        }

        guard parseSpecial else {
            encodePlainText(0..<scalarText.count)
            return ids
        }
        for segment in specialTokens.segments(of: scalarText) {
            switch segment {
            case .text(let range): encodePlainText(range)
            case .special(let id): ids.append(id)
            }
        }
        return ids
    }

    /// The text of `ids`; ids outside the vocabulary are skipped, and byte sequences that are
    /// not valid UTF-8 (such as a character cut between tokens) become U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where tokenBytes.indices.contains(id) {
            bytes.append(contentsOf: tokenBytes[id])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
