import Foundation
import XCTest

/// What a run of the `bip` executable printed and returned.
struct BipOutcome {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Marks the test bundle, to find the products folder that holds `bip`.
private final class BundleMarker {}

/// Runs the `bip` built next to this test bundle.
func runBip(_ arguments: [String]) throws -> BipOutcome {
    // The test bundle is (Linux) or sits in (macOS) the products folder that holds `bip`.
    let bundle = Bundle(for: BundleMarker.self).bundleURL
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
    return BipOutcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
}
