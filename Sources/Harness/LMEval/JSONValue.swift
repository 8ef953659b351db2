import Foundation
import Runtime
import Tasks

/// A JSON value of a file in lm-evaluation-harness's layout, whose objects are keyed by task and
/// metric names not known in advance. Integers and other numbers stay apart, as Python keeps them.
public enum JSONValue: Encodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let x): try c.encode(x)
        case .int(let x): try c.encode(x)
        case .double(let x): try c.encode(x)
        case .string(let x): try c.encode(x)
        case .array(let x): try c.encode(x)
        case .object(let x): try c.encode(x)
        }
    }

    /// Reads JSON text: a results file, or one line of a samples file. A number stays an integer
    /// only where written without a fraction or exponent (Foundation's decoders read `0.0` as an
    /// integer), so a value reads back as Python wrote it. A syntax error is a `DataError` naming
    /// `file` (and `line`) and the byte offset.
    public static func parse(_ data: Data, file: String, line: Int? = nil) throws -> JSONValue {
        var reader = JSONReader(bytes: Array(data))
        do {
            let value = try reader.value()
            reader.skipSpace()
            guard reader.offset == reader.bytes.count else { throw JSONReader.Failure(offset: reader.offset, expected: "the end of the text") }
            return value
        } catch let failure as JSONReader.Failure {
            throw DataError(file: file, line: line, problem: "not JSON: expected \(failure.expected) at byte \(failure.offset)")
        }
    }

    var object: [String: JSONValue]? { if case .object(let x) = self { x } else { nil } }
    var array: [JSONValue]? { if case .array(let x) = self { x } else { nil } }
    var string: String? { if case .string(let x) = self { x } else { nil } }
    /// A boolean, or a string that is Python's `str` of one ("True", "False"), as the harness
    /// writes `is_greedy`.
    var flag: Bool? {
        switch self {
        case .bool(let x): x
        case .string("True"): true
        case .string("False"): false
        default: nil
        }
    }

    /// A number, or a string holding one (the harness writes loglikelihoods as strings).
    var number: Double? {
        switch self {
        case .int(let x): Double(x)
        case .double(let x): x
        case .string(let x): Double(x)
        default: nil
        }
    }

    /// The text Python's `json.dumps(value, indent=indent, ensure_ascii=False)` gives for this
    /// value (keys in sorted order): with `indent` 2 as the harness writes its results file and
    /// hashes a document for `doc_hash`, with nil on one line as it writes a samples line. Numbers
    /// other than integers are written as Swift's shortest round-trip form, which is Python's
    /// `repr` for every value between 1e-4 and 1e16.
    func pythonJSON(indent: Int? = 2, level: Int = 0) -> String {
        let open = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) } ?? ""
        let close = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
        let separator = indent == nil ? ", " : "," + open
        switch self {
        case .null: return "null"
        case .bool(let x): return x ? "true" : "false"
        case .int(let x): return String(x)
        case .double(let x):
            if x.isNaN { return "NaN" }
            if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
            return "\(x)"
        case .string(let x): return Self.quoted(x)
        case .array(let xs):
            if xs.isEmpty { return "[]" }
            return "[" + open + xs.map { $0.pythonJSON(indent: indent, level: level + 1) }.joined(separator: separator) + close + "]"
        case .object(let xs):
            if xs.isEmpty { return "{}" }
            return "{" + open + xs.keys.sorted().map { Self.quoted($0) + ": " + xs[$0]!.pythonJSON(indent: indent, level: level + 1) }
                .joined(separator: separator) + close + "}"
        }
    }

    /// A JSON string as Python writes it with `ensure_ascii=False`.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A reader of JSON text into `JSONValue`s (RFC 8259), for `JSONValue.parse`.
private struct JSONReader {
    struct Failure: Error {
        let offset: Int
        let expected: String
    }

    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    private mutating func take(_ literal: String, _ value: JSONValue) throws -> JSONValue {
        let expected = Array(literal.utf8)
        guard bytes.count - offset >= expected.count, Array(bytes[offset..<offset + expected.count]) == expected else {
            throw Failure(offset: offset, expected: literal)
        }
        offset += expected.count
        return value
    }

    mutating func value() throws -> JSONValue {
        skipSpace()
        guard offset < bytes.count else { throw Failure(offset: offset, expected: "a value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(object)
            }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw Failure(offset: offset, expected: "':'") }
                offset += 1
                object[key] = try value()
                skipSpace()
                guard offset < bytes.count else { throw Failure(offset: offset, expected: "',' or '}'") }
                offset += 1
                if bytes[offset - 1] == UInt8(ascii: "}") { return .object(object) }
                guard bytes[offset - 1] == UInt8(ascii: ",") else { throw Failure(offset: offset - 1, expected: "',' or '}'") }
            }
        case UInt8(ascii: "["):
            offset += 1
            var array: [JSONValue] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(array)
            }
            while true {
                array.append(try value())
                skipSpace()
                guard offset < bytes.count else { throw Failure(offset: offset, expected: "',' or ']'") }
                offset += 1
                if bytes[offset - 1] == UInt8(ascii: "]") { return .array(array) }
                guard bytes[offset - 1] == UInt8(ascii: ",") else { throw Failure(offset: offset - 1, expected: "',' or ']'") }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try take("true", .bool(true))
        case UInt8(ascii: "f"): return try take("false", .bool(false))
        case UInt8(ascii: "n"): return try take("null", .null)
        case UInt8(ascii: "N"): return try take("NaN", .double(.nan))
        case UInt8(ascii: "I"): return try take("Infinity", .double(.infinity))
        default: return try number()
        }
    }

    /// A number; Python's `-Infinity` too.
    private mutating func number() throws -> JSONValue {
        let start = offset
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "I") { return try take("Infinity", .double(-.infinity)) }
        }
        var integral = true
        while offset < bytes.count {
            let byte = bytes[offset]
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                offset += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                integral = false
                offset += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if integral, let x = Int(text) { return .int(x) }
        guard let x = Double(text), text.last.map({ $0.isNumber }) == true else { throw Failure(offset: start, expected: "a value") }
        return .double(x)
    }

    private mutating func string() throws -> String {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw Failure(offset: offset, expected: "a string") }
        offset += 1
        var scalars = String.UnicodeScalarView()
        var run = offset
        func flush() throws {
            guard let text = String(validating: bytes[run..<offset], as: UTF8.self) else { throw Failure(offset: run, expected: "UTF-8 text") }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard offset < bytes.count else { throw Failure(offset: offset, expected: "'\"'") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                try flush()
                offset += 1
                return String(scalars)
            }
            guard byte == UInt8(ascii: "\\") else {
                guard byte >= 0x20 else { throw Failure(offset: offset, expected: "an escaped control character") }
                offset += 1
                continue
            }
            try flush()
            offset += 1
            guard offset < bytes.count else { throw Failure(offset: offset, expected: "an escape") }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Failure(offset: offset - 4, expected: "a low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw Failure(offset: offset - 4, expected: "a Unicode scalar") }
                scalars.append(scalar)
            default: throw Failure(offset: offset - 1, expected: "an escape")
            }
            run = offset
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - offset >= 4, let code = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16) else {
            throw Failure(offset: offset, expected: "four hex digits")
        }
        offset += 4
        return code
    }
}
