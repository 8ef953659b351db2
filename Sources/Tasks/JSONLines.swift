import Foundation

/// One JSON object read from a line of a JSONL file, with accessors that throw a `DataError`
/// naming the file, the line and the field.
struct JSONRecord {
    let file: String
    let line: Int
    let object: [String: Any]
    /// The path of this object inside the line's JSON, such as `question.choices[2].`.
    var path = ""

    func error(_ field: String, _ problem: String) -> DataError {
        DataError(file: file, line: line, field: path + field, problem: problem)
    }

    func value(_ key: String) throws -> Any {
        guard let value = object[key], !(value is NSNull) else { throw error(key, "missing") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key) as? String else { throw error(key, "not a string") }
        return text
    }

    func int(_ key: String) throws -> Int {
        let raw = try value(key)
        if let text = raw as? String, let number = Int(text) { return number }
        if let number = raw as? NSNumber, number.doubleValue == Double(number.intValue) {
            return number.intValue
        }
        throw error(key, "not an integer: \(raw)")
    }

    func record(_ key: String) throws -> JSONRecord {
        guard let nested = try value(key) as? [String: Any] else { throw error(key, "not an object") }
        return JSONRecord(file: file, line: line, object: nested, path: path + key + ".")
    }

    /// The objects of the array `key`; nested errors name `key[i].field`.
    func records(_ key: String) throws -> [JSONRecord] {
        guard let array = try value(key) as? [Any] else { throw error(key, "not an array") }
        return try array.enumerated().map { i, element in
            guard let nested = element as? [String: Any] else { throw error("\(key)[\(i)]", "not an object") }
            return JSONRecord(file: file, line: line, object: nested, path: path + "\(key)[\(i)].")
        }
    }

    func strings(_ key: String) throws -> [String] {
        guard let array = try value(key) as? [Any] else { throw error(key, "not an array") }
        return try array.enumerated().map { i, element in
            guard let text = element as? String else { throw error("\(key)[\(i)]", "not a string") }
            return text
        }
    }
}

/// Reading the data files line by line, in file order.
enum DataFile {
    /// The lines of `relativePath` in `directory`, without their `\n`; a final newline does not
    /// start another line.
    static func lines(_ relativePath: String, in directory: DataDirectory) throws -> [String] {
        let url = directory.file(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError(file: relativePath, problem: "missing")
        }
        var lines: [String] = []
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                let end = memchr(base + start, Int32(UInt8(ascii: "\n")), buffer.count - start)
                    .map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? buffer.count
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                guard let line = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
                    throw DataError(file: relativePath, line: lines.count + 1, problem: "not valid UTF-8")
                }
                lines.append(line)
                start = end + 1
            }
        }
        return lines
    }

    /// The JSON objects of the JSONL file `relativePath`, one per line; a line that is blank or
    /// not a JSON object is an error naming its line.
    static func jsonLines(_ relativePath: String, in directory: DataDirectory) throws -> [JSONRecord] {
        try lines(relativePath, in: directory).enumerated().map { i, line in
            let number = i + 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]),
                  let dictionary = object as? [String: Any] else {
                throw DataError(file: relativePath, line: number, problem: "not a JSON object")
            }
            return JSONRecord(file: relativePath, line: number, object: dictionary)
        }
    }
}
