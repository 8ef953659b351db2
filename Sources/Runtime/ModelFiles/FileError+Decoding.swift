/// A JSON file whose decoding failed: the error names the field by its path (`bip.layers[3].ffn`).
extension FileError {
    public init(_ file: String, decoding error: DecodingError) {
        func field(_ path: [any CodingKey]) -> String {
            path.enumerated().map { i, key in
                key.intValue.map { "[\($0)]" } ?? (i == 0 ? key.stringValue : "." + key.stringValue)
            }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(file, "missing '\(field(context.codingPath + [key]))'")
        case .typeMismatch(_, let context) where context.codingPath.isEmpty,
             .valueNotFound(_, let context) where context.codingPath.isEmpty,
             .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(file, "not a JSON object")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            self.init(file, "'\(field(context.codingPath))' is not \(Self.kind(type))")
        case .dataCorrupted(let context):
            self.init(file, "'\(field(context.codingPath))': \(context.debugDescription)")
        @unknown default:
            self.init(file, "\(error)")
        }
    }

    private static func kind(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [Any].Type: "a list"
        default: "an object"
        }
    }
}
