/// What a vocabulary entry is, numbered as GGUF's `tokenizer.ggml.token_type` numbers it.
public enum TokenType: Int, Sendable {
    case normal = 1, unknown, control, userDefined, unused, byte
}
