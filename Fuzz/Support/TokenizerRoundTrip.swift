import Foundation
import Runtime

/// The property of the byte-level and SentencePiece targets: the input, as UTF-8 text (invalid
/// sequences as U+FFFD), encoded as plain text and decoded is the text again, wherever the
/// vocabulary promises it: when every character of the text comes back alone. (SmolLM2's
/// vocabulary has no token for the bytes 0x04, 0x06, 0x13, 0x14, 0x16 and 0x1D, so a text with
/// those control characters loses them, as it does with Hugging Face's tokenizer.)
enum TokenizerRoundTrip {
    /// The tokenizer of the GGUF file at `$variable`, loaded once per process.
    static func tokenizer(from variable: String) -> any Tokenizer {
        guard let path = ProcessInfo.processInfo.environment[variable] else { fatalError("set \(variable) to a GGUF file") }
        return try! TokenizerLoader.load(gguf: GGUFFile(path: path))
    }

    /// Whether each character comes back alone, per character seen so far.
    nonisolated(unsafe) private static var representable: [Unicode.Scalar: Bool] = [:]

    static func check(_ tokenizer: any Tokenizer, _ data: UnsafePointer<UInt8>, _ size: Int) {
        let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        let ids = tokenizer.encode(text, parseSpecial: false)
        let back = tokenizer.decode(ids)
        let promised = text.unicodeScalars.allSatisfy { scalar in
            if let known = representable[scalar] { return known }
            let alone = String(scalar)
            let comesBack = tokenizer.decode(tokenizer.encode(alone, parseSpecial: false)) == alone
            representable[scalar] = comesBack
            return comesBack
        }
        guard back == text || !promised else {
            fatalError("round trip lost the text: \(Array(text.unicodeScalars)) -> \(ids) -> \(Array(back.unicodeScalars))")
        }
        _ = tokenizer.decode(tokenizer.encode(text, parseSpecial: true))
    }
}
