import Foundation
import TestSupport

/// llama.cpp's tokenizer test vectors (`ggml-vocab-*.gguf.inp` / `.out`), read the way its
/// `test-tokenizer-0` reads them: the input file is cut at every "\n__ggml_vocab_test__\n"
/// (so whitespace at the ends of a case is kept, and the file's last separator ends the last
/// case), and each output line holds one case's ids separated by spaces.
struct VocabTestFixture {
    let vocabulary: URL
    let cases: [(text: String, ids: [Int])]

    init(_ relativePath: String) throws {
        let vocabulary = try TestModel.sharedFile(relativePath)
        self.vocabulary = vocabulary
        // Cut as bytes: String searching would treat "\n" plus a combining mark as one character.
        let input = [UInt8](try Data(contentsOf: URL(fileURLWithPath: vocabulary.path + ".inp")))
        let output = try String(contentsOf: URL(fileURLWithPath: vocabulary.path + ".out"), encoding: .utf8)
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var start = 0, position = 0
        while position + separator.count <= input.count {
            if input[position..<(position + separator.count)].elementsEqual(separator) {
                texts.append(String(decoding: input[start..<position], as: UTF8.self))
                position += separator.count
                start = position
            } else {
                position += 1
            }
        }
        if start < input.count { texts.append(String(decoding: input[start...], as: UTF8.self)) }
        var lines = output.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard lines.count == texts.count else {
            throw FixtureError(description: "\(vocabulary.path): \(texts.count) inputs but \(lines.count) output lines")
        }
        cases = try zip(texts, lines).map { text, line in
            let ids = try line.split(separator: " ").map { field -> Int in
                guard let id = Int(field) else { throw FixtureError(description: "bad id '\(field)' in \(vocabulary.path).out") }
                return id
            }
            return (text, ids)
        }
    }
}

/// A fixture file that does not have the expected form.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}
