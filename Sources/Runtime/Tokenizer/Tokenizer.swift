/// Text to token ids and back, as a model's own tokenizer does it.
public protocol Tokenizer: Sendable {
    /// Token ids of `text`, without BOS. With `parseSpecial`, strings of special tokens
    /// (such as `<|im_start|>`) become their single ids; otherwise all text is plain text.
    func encode(_ text: String, parseSpecial: Bool) -> [Int]
    /// The text of `ids` (special tokens included as their strings).
    func decode(_ ids: [Int]) -> String
    /// Whether the model expects a BOS token before its input by default.
    var addsBOS: Bool { get }
    var bosID: Int? { get }
    var eosID: Int? { get }
    var vocabularySize: Int { get }
}
