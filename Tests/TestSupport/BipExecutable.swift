import Foundation
import XCTest

/// The `bip` executable built next to the test bundle, run as a child process.
public enum BipExecutable {
    public struct Outcome {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public static func url() throws -> URL {
        // The test bundle is (Linux) or sits in (macOS) the products folder that holds `bip`.
        let bundle = Bundle(for: BundleMarker.self).bundleURL
        return try XCTUnwrap([bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("bip") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "bip not found next to \(bundle.path)")
    }

    /// Starts `bip arguments` with extra environment variables; stdout and stderr go to files
    /// `log.out` / `log.err` when `log` is given, else are discarded.
    public static func start(_ arguments: [String], environment: [String: String] = [:], log: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let log {
            FileManager.default.createFile(atPath: log.path + ".out", contents: nil)
            FileManager.default.createFile(atPath: log.path + ".err", contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path + ".out"))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path + ".err"))
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Runs `bip arguments` to the end.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        nonisolated(unsafe) var stderr = Data()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderr = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    private final class BundleMarker {}
}
