import Foundation

/// One fuzz input as the file (or files) a parser reads: written into this process's scratch
/// directory in /dev/shm, and the property every target checks on a rejected input.
enum FuzzInput {
    /// The scratch directory of this fuzzing process, removed when it exits.
    static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("bip-fuzz-\(getpid())")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FuzzInput.directory.path) }
        return url
    }()

    /// Writes `bytes` as `name` (a path relative to the scratch directory) and returns its URL.
    @discardableResult
    static func write(_ bytes: some Collection<UInt8>, as name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(bytes).write(to: url)
        return url
    }

    /// The input's bytes.
    static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: data, count: size)
    }

    /// Runs `parse`; an error it throws must name the file it is about (`file`'s last path
    /// component), or the fuzzer stops with the input as a finding.
    static func expectClearError(naming file: String, _ parse: () throws -> Void) {
        do { try parse() } catch {
            let text = "\(error)"
            guard text.contains((file as NSString).lastPathComponent) else {
                fatalError("the error does not name \(file): \(text)")
            }
        }
    }
}
