import Foundation
import Runtime
import TestSupport
import XCTest
@testable import Tasks

/// The real data directory: `$BIP_DATA`, else `../shared/data` next to the package root.
/// A missing directory fails the calling test (it is never skipped).
func realData(file: StaticString = #filePath, line: UInt = #line) throws -> DataDirectory {
    do {
        return DataDirectory(url: try TestModel.dataDirectory())
    } catch {
        XCTFail("\(error)", file: file, line: line)
        throw error
    }
}

/// Writes `text` to `relativePath` under `directory`, creating folders.
func write(_ text: String, to relativePath: String, in directory: URL) throws {
    let url = directory.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

/// Runs `body` and returns the `DataError` it throws, failing if it throws none or another error.
func dataError(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> DataError? {
    do {
        try body()
        XCTFail("expected a DataError", file: file, line: line)
    } catch let error as DataError {
        return error
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
    return nil
}

/// One token per UTF-8 byte (ids 0-255), BOS 256, EOS 257. With `mergeDoubles`, two equal
/// consecutive bytes make one token (id 1000 + byte), so tokens can straddle a boundary.
/// Asked to parse special tokens it returns no ids, so a caller that should not ask is caught.
struct ByteTokenizer: Tokenizer {
    var addsBOS = false
    var mergeDoubles = false
    var bosID: Int? = 256
    var eosID: Int? = 257
    var vocabularySize: Int { 1256 }

    func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        guard !parseSpecial else { return [] }
        let bytes = Array(text.utf8)
        var ids: [Int] = []
        var i = 0
        while i < bytes.count {
            if mergeDoubles, i + 1 < bytes.count, bytes[i] == bytes[i + 1] {
                ids.append(1000 + Int(bytes[i]))
                i += 2
            } else {
                ids.append(Int(bytes[i]))
                i += 1
            }
        }
        return ids
    }

    func decode(_ ids: [Int]) -> String {
        String(decoding: ids.flatMap { $0 >= 1000 ? [UInt8($0 - 1000), UInt8($0 - 1000)] : $0 < 256 ? [UInt8($0)] : [] }, as: UTF8.self)
    }
}

/// The UTF-8 bytes of `text` as token ids of `ByteTokenizer`.
func bytes(_ text: String) -> [Int] { text.utf8.map(Int.init) }
