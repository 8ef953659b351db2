import Foundation
import Runtime

/// A problem with a data file, naming the file and, where known, the line and field.
///
/// `description` reads like `boolq/val.jsonl:12: field "label": expected "true" or "false", got "maybe"`.
public struct DataError: InputError, Equatable, Sendable {
    /// The file, as given (usually relative to the data directory).
    public let file: String
    /// 1-based line number, if the problem is on one line.
    public let line: Int?
    /// The field (JSON key, or a description such as `label`) that is wrong, if any.
    public let field: String?
    /// What is wrong: `missing`, `size X, expected Y`, `sha256 ... expected ...`, and so on.
    public let problem: String

    public init(file: String, line: Int? = nil, field: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "field \"\(field)\": " }
        return text + problem
    }
}

extension DataError: LocalizedError {
    public var errorDescription: String? { description }
}
