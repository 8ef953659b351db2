import Foundation

/// Progress and diagnostics go to stderr; results go to stdout.
enum Console {
    static func status(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Prints a JSON value (sorted keys) on stdout.
    static func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Prints an encodable value as JSON (sorted keys) on stdout.
    static func printJSON(encoding value: some Encodable) {
        FileHandle.standardOutput.write(value.sortedKeyJSONData() + Data("\n".utf8))
    }
}
