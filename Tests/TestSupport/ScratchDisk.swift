import Foundation
import XCTest

/// A small tmpfs mounted for one test (mounting needs root, which the tests have here and in
/// CI): a disk that can be filled to the last byte or made read-only, to see what bip does
/// when a write fails. Skipped where mounting is not allowed, failed there under `CI`.
public final class ScratchDisk {
    public let url: URL
    private var fillers = 0

    /// Mounts a tmpfs of `megabytes` at a new temporary directory.
    public init(megabytes: Int) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bip-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard Self.run("mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", url.path) else {
            try? FileManager.default.removeItem(at: url)
            let message = "cannot mount a tmpfs for the disk-failure tests (needs root)"
            if ProcessInfo.processInfo.environment["CI"] != nil { throw Unavailable(description: message) }
            throw XCTSkip(message)
        }
    }

    /// Why a disk test could not run under CI.
    struct Unavailable: Error, CustomStringConvertible { let description: String }

    /// Unmounts the disk and removes its mount point.
    public func remove() {
        _ = Self.run("umount", url.path)
        try? FileManager.default.removeItem(at: url)
    }

    /// Fills the disk: a file grows until not one more byte fits.
    public func fill() {
        fillers += 1
        let fd = open(url.appendingPathComponent(".filler-\(fillers)").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create the filler on \(url.path)")
        defer { close(fd) }
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        for chunk in [1 << 16, 1 << 12, 1] {
            while zeros.withUnsafeBytes({ write(fd, $0.baseAddress, chunk) }) == chunk {}
        }
    }

    /// Removes the fillers: the disk has room again.
    public func free() {
        for i in 0..<fillers { unlink(url.appendingPathComponent(".filler-\(i + 1)").path) }
        fillers = 0
    }

    /// Remounts the disk read-only (`writable: false`) or read-write.
    public func remount(writable: Bool) {
        precondition(Self.run("mount", "-o", writable ? "remount,rw" : "remount,ro", url.path), "cannot remount \(url.path)")
    }

    /// The files and directories on the disk whose names say they are half-written
    /// (`.NAME.partial-…`), the fillers aside.
    public func partialFiles() -> [String] {
        let all = FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String] ?? []
        return all.filter { ($0 as NSString).lastPathComponent.contains(".partial-") }
    }

    private static func run(_ arguments: String...) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
