import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written whole or not at all: the bytes go to a temporary name in the same directory
/// (`.NAME.partial-PID-N@HOST`), are flushed to the disk (fsync), and only then renamed over the final
/// name, so no reader ever sees a half-written file under that name. A failure (a full disk, a
/// read-only directory) removes the temporary file, leaves what was under the final name before
/// untouched, and is a `FileError` naming the file and the system's reason.
public final class AtomicFile {
    public let url: URL
    private let partial: URL
    private var descriptor: Int32

    /// Writes `url` with `body`, which appends the contents through `write`.
    public static func write(_ url: URL, _ body: (AtomicFile) throws -> Void) throws {
        let file = try AtomicFile(url)
        do {
            try body(file)
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Writes `data` as the whole of `url`.
    public static func write(_ data: Data, to url: URL) throws {
        try write(url) { try $0.write(data) }
    }

    private init(_ url: URL) throws {
        self.url = url
        partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(TemporaryName.next("partial"))")
        descriptor = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure(url) }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = systemWrite(descriptor, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure(url)
            }
            done += n
        }
    }

    #if canImport(Glibc)
    private let systemWrite = Glibc.write
    #else
    private let systemWrite = Darwin.write
    #endif

    /// Appends `data`.
    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }

    /// Appends the elements of `values` as they are held in memory.
    public func write<T>(_ values: [T]) throws { try values.withUnsafeBytes { try write($0) } }

    private func commit() throws {
        guard fsync(descriptor) == 0 else { throw Self.failure(url) }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw Self.failure(url) }
        guard rename(partial.path, url.path) == 0 else { throw Self.failure(url) }
        Self.syncDirectory(url.deletingLastPathComponent())
    }

    private func abandon() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(partial.path)
    }

    /// The `FileError` for the failed system call that just set `errno`.
    static func failure(_ url: URL) -> FileError {
        FileError(url.path, "cannot write: \(String(cString: strerror(errno)))")
    }

    /// Creates the directory `url` and any missing parents; a failure is a `FileError` naming it
    /// and the system's reason.
    public static func createDirectory(_ url: URL) throws {
        var path = ""
        for component in url.standardizedFileURL.pathComponents {
            path = component == "/" ? "/" : (path as NSString).appendingPathComponent(component)
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw FileError(url.path, "cannot create the directory: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Flushes a directory's entries (a rename in it) to the disk.
    public static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// Names of temporary files and directories no other writer uses at the same time: this
/// process's id, a number counting up within it and the host (`partial-PID-N@HOST`), so a later
/// run can tell the leftovers of a process of its own host that no longer runs
/// (`localProcessID(in:kind:)`), and leaves alone those of other hosts sharing the directory
/// (cluster workers on a shared file system), whose process ids mean nothing here.
public enum TemporaryName {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counter = 0
    /// This host's name, as the sweep's workers name it.
    private static let host = ProcessInfo.processInfo.hostName

    /// `KIND-PID-N@HOST`, a new N on every call.
    public static func next(_ kind: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return "\(kind)-\(getpid())-\(counter)@\(host)"
    }

    /// The process id in a name made by `next(kind)` on this host (or by a version of bip whose
    /// names had no host); nil for another host's name or a name of another kind.
    public static func localProcessID(in name: String, kind: String) -> Int32? {
        guard let range = name.range(of: ".\(kind)-") else { return nil }
        let rest = name[range.upperBound...]
        if let at = rest.firstIndex(of: "@"), rest[rest.index(after: at)...] != host { return nil }
        return rest.split(separator: "-").first.flatMap { Int32($0) }
    }
}
