import Foundation
import XCTest

/// What one run of the `bip` executable did.
struct Outcome {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Finds the test bundle, next to which `bip` is built.
private final class BundleAnchor {}

/// Runs the `bip` built next to this test bundle.
func bip(_ arguments: [String]) throws -> Outcome {
    // The test bundle is (Linux) or sits in (macOS) the products folder that holds `bip`.
    let bundle = Bundle(for: BundleAnchor.self).bundleURL
    let executable = try XCTUnwrap([bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("bip") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "bip not found next to \(bundle.path)")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
}
