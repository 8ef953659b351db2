import Foundation

/// A record stored as one row of its table, its coding keys being the column names. Both engines
/// read and write it through `RowEncoder` and `RowDecoder`: `Bool`, `String`, `Double`, integers
/// and their optionals are columns of their own type (nil is NULL); a value that encodes as one
/// string (a `String` enum, `LayerSelection`) is text; any other Codable value is its sorted-key
/// JSON as text, as GRDB wrote it.
protocol StoredRecord: Codable {
    static var databaseTableName: String { get }
    /// The columns that identify a row: `id` for a record with an id, else the table's primary key.
    static var key: [String] { get }
}

/// The columns of a `StoredRecord`, in its coding order.
struct RowEncoder {
    static func columns(of record: some Encodable) throws -> [(name: String, value: StoreValue)] {
        let encoding = Encoding()
        try record.encode(to: encoding)
        return encoding.columns
    }

    private final class Encoding: Encoder {
        var columns: [(name: String, value: StoreValue)] = []
        let codingPath: [any CodingKey] = []
        let userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Columns(encoding: self))
        }

        // A record is a keyed container by construction (its synthesized `encode(to:)`).
        func unkeyedContainer() -> any UnkeyedEncodingContainer { preconditionFailure("a stored record encodes as columns") }
        func singleValueContainer() -> any SingleValueEncodingContainer { preconditionFailure("a stored record encodes as columns") }
    }

    private struct Columns<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoding: Encoding
        var codingPath: [any CodingKey] { [] }

        func put(_ value: StoreValue, _ key: Key) { encoding.columns.append((key.stringValue, value)) }
        func integer(_ value: some BinaryInteger, _ key: Key) throws {
            guard let exact = Int64(exactly: value) else {
                throw EncodingError.invalidValue(value, .init(codingPath: [key], debugDescription: "does not fit a 64-bit integer column"))
            }
            put(.integer(exact), key)
        }

        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(.boolean(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(.text(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { put(.real(value), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { put(.real(Double(value)), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }

        /// One string (a `String` enum, `LayerSelection`): that text; anything else: its JSON.
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let json = try encoder.encode(value)
            if json.first == UInt8(ascii: "\"") {
                put(.text(try JSONDecoder().decode(String.self, from: json)), key)
            } else {
                put(.text(String(decoding: json, as: UTF8.self)), key)
            }
        }

        // nil is NULL, so that an update clears the column.
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { put(.null, key) } }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { put(.null, key) } }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { put(.null, key) } }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { put(.null, key) } }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { put(.null, key) } }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { put(.null, key) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            preconditionFailure("a stored record's columns are flat")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("a stored record's columns are flat")
        }
        mutating func superEncoder() -> any Encoder { encoding }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoding }
    }
}

/// A `StoredRecord` read back from a row (`SELECT *`).
struct RowDecoder {
    static func record<R: Decodable>(_ type: R.Type, from row: StoreRow) throws -> R {
        try R(from: Decoding(row: row))
    }

    private struct Decoding: Decoder {
        let row: StoreRow
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Columns(row: row))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw RowDecoder.flat([]) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw RowDecoder.flat([]) }
    }

    static func flat(_ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(StoreRow.self, .init(codingPath: path, debugDescription: "a stored record's columns are flat"))
    }

    private struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: StoreRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { row.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { row[key.stringValue] != nil }

        func stored(_ key: Key) throws -> StoreValue {
            guard let value = row[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [key], debugDescription: "no column \(key.stringValue)"))
            }
            return value
        }

        func mismatch<T>(_ type: T.Type, _ key: Key, _ value: StoreValue) -> DecodingError {
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "column \(key.stringValue) holds \(value)"))
        }

        func integer<T: FixedWidthInteger>(_ type: T.Type, _ key: Key) throws -> T {
            let value = try stored(key)
            guard case .integer(let integer) = value, let exact = T(exactly: integer) else { throw mismatch(type, key, value) }
            return exact
        }

        func decodeNil(forKey key: Key) throws -> Bool { try stored(key) == .null }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            switch try stored(key) {
            case .boolean(let bool): return bool
            case .integer(let integer) where integer == 0 || integer == 1: return integer == 1  // SQLite's booleans
            case let other: throw mismatch(type, key, other)
            }
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let value = try stored(key)
            guard case .text(let text) = value else { throw mismatch(type, key, value) }
            return text
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            switch try stored(key) {
            case .real(let real): return real
            case .integer(let integer): return Double(integer)  // SQLite may hand an integral REAL as an integer
            case let other: throw mismatch(type, key, other)
            }
        }

        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decode(Double.self, forKey: key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

        /// Text that is a JSON object or array: that JSON; other text: the value encoded as that one string.
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let text = try decode(String.self, forKey: key)
            if text.first == "{" || text.first == "[", let decoded = try? JSONDecoder().decode(type, from: Data(text.utf8)) {
                return decoded
            }
            return try JSONDecoder().decode(type, from: JSONEncoder().encode(text))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw RowDecoder.flat([key])
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw RowDecoder.flat([key]) }
        func superDecoder() throws -> any Decoder { Decoding(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { Decoding(row: row) }
    }
}
