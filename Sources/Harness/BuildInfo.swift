import Foundation

/// Which bip made a result: its version and, when run from a git checkout, the commit.
public enum BuildInfo {
    public static let version = "0.1.0"

    /// The HEAD commit, when the process started, of the checkout this binary was built from
    /// (asked of git at run time, so a binary older than a later commit reports the later one).
    public static let commit: String? = {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", sources, "rev-parse", "HEAD"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// What `bip --version` prints: the version and the commit.
    public static var versionLine: String { "bip \(version), commit \(commit ?? "unknown")" }
}
