import Foundation
import XCTest

extension XCTestCase {
    /// A new empty directory `bip-<label>-<UUID>` under the system's temporary directory, removed
    /// with everything in it when the test ends (when made in `setUp`, after `tearDown`).
    public func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bip-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
