/// HellaSwag's text clean-up, as lm-evaluation-harness does it.
public enum HellaSwag {
    /// `strip`, `" [title]"` -> `". "`, remove every `[...]` span (non-greedy, not across
    /// newlines: Python's `re.sub("\\[.*?\\]", "", s)`), then one left-to-right pass of
    /// `"  "` -> `" "`.
    public static func preprocess(_ text: String) -> String {
        let titled = PythonString.replace(PythonString.strip(text), " [title]", with: ". ")
        return PythonString.replace(removeBracketSpans(titled), "  ", with: " ")
    }

    /// Python's `re.sub("\\[.*?\\]", "", s)`: `.` does not match `\n`. Works on UTF-8 bytes:
    /// `[`, `]` and `\n` are ASCII and never occur inside a multi-byte sequence.
    static func removeBracketSpans(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "["),
               let close = bytes[(i + 1)...].firstIndex(where: { $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "\n") }),
               bytes[close] == UInt8(ascii: "]") {
                i = close + 1
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
