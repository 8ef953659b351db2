import Foundation
import Runtime

/// The property of the byte-level and SentencePiece targets: the input, as UTF-8 text (invalid
/// sequences as U+FFFD), encoded as plain text and decoded is the text again.
enum TokenizerRoundTrip {
    /// The tokenizer of the GGUF file at `$variable`, loaded once per process.
    static func tokenizer(from variable: String) -> any Tokenizer {
        guard let path = ProcessInfo.processInfo.environment[variable] else { fatalError("set \(variable) to a GGUF file") }
        return try! TokenizerLoader.load(gguf: GGUFFile(path: path))
    }

    static func check(_ tokenizer: any Tokenizer, _ data: UnsafePointer<UInt8>, _ size: Int) {
        let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        let ids = tokenizer.encode(text, parseSpecial: false)
        let back = tokenizer.decode(ids)
        guard back == text else {
            fatalError("round trip lost the text: \(Array(text.unicodeScalars)) -> \(ids) -> \(Array(back.unicodeScalars))")
        }
        _ = tokenizer.decode(tokenizer.encode(text, parseSpecial: true))
    }
}
