import Foundation
import TestSupport
import XCTest
@testable import Tasks

final class ManifestAndVerifierTests: XCTestCase {
    /// Record counts as the data README states them.
    static let readmeRecords = [
        "wikitext2/wikitext-2-raw-v1.test.jsonl": 4358, "wikitext2/wikitext-2-raw-v1.test.joined.txt": 4358,
        "wikitext2/wikitext-2-v1.wiki.test.tokens": 4358, "wikitext2/wikitext-2-v1.wiki.valid.tokens": 3760,
        "ptb/ptb.train.txt": 42068, "ptb/ptb.valid.txt": 3370, "ptb/ptb.test.txt": 3761,
        "boolq/val.jsonl": 3270, "piqa/valid.jsonl": 1838, "piqa/valid-labels.lst": 1838,
        "hellaswag/hellaswag_val.jsonl": 10042, "winogrande/winogrande_xl_validation.jsonl": 1267,
        "winogrande/dev-labels.lst": 1267, "arc/ARC-Easy-Test.jsonl": 2376, "arc/ARC-Challenge-Test.jsonl": 1172,
        "openbookqa/test.jsonl": 500, "openbookqa/test.tsv": 500, "c4/c4-en-train.00000-of-01024.first1000.jsonl": 1000,
    ]

    func testManifestsCoverSHA256SUMSWithItsHashes() throws {
        let data = try realData()
        let manifests = try DatasetManifest.loadAll()
        XCTAssertEqual(manifests.map(\.name), DatasetManifest.allNames)
        let files = manifests.flatMap(\.files)
        let sums = try String(contentsOf: data.file("SHA256SUMS"), encoding: .utf8).split(separator: "\n").map {
            ($0.split(separator: " ", omittingEmptySubsequences: true)[1], $0.prefix(64))
        }
        XCTAssertEqual(Set(files.map(\.path)), Set(sums.map { String($0.0) }))
        for (path, sha) in sums {
            XCTAssertEqual(files.first { $0.path == path }?.sha256, String(sha), String(path))
        }
        for file in files {
            XCTAssertEqual(file.records, Self.readmeRecords[file.path], file.path)
            XCTAssertTrue(file.url.hasPrefix("https://"), file.path)
            if !file.byteIdentical { XCTAssertNotNil(file.note, "\(file.path): a non-identical URL needs a note") }
        }
    }

    func testEveryRealFileVerifies() throws {
        let verifier = DataVerifier(dataDirectory: try realData())
        for manifest in try DatasetManifest.loadAll() {
            XCTAssertEqual(verifier.problems(in: manifest), [], manifest.name)
        }
    }

    func testCorruptedCopyFailsNamingTheFile() throws {
        let real = try realData()
        let temp = try temporaryFolder("manifest")
        let manifest = try DatasetManifest.load("piqa")
        var labels = try Data(contentsOf: real.file("piqa/valid-labels.lst"))
        labels[0] = labels[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try FileManager.default.createDirectory(at: temp.appendingPathComponent("piqa"), withIntermediateDirectories: true)
        try labels.write(to: temp.appendingPathComponent("piqa/valid-labels.lst"))
        let problems = DataVerifier(dataDirectory: DataDirectory(url: temp)).problems(in: manifest)
        XCTAssertEqual(problems.map(\.file), ["piqa/valid.jsonl", "piqa/valid-labels.lst"])
        XCTAssertEqual(problems.first?.problem, "missing")
        let sha = try XCTUnwrap(problems.last).problem
        XCTAssertTrue(sha.hasPrefix("sha256 ") && sha.hasSuffix("expected b4192dc3a2a0363d9d60ccf79800cbbe2f32ebb17726efdde6970e0b8131bceb"), sha)
        XCTAssertTrue(problems.last!.description.hasPrefix("piqa/valid-labels.lst: sha256 "))
    }

    func testSizeMismatchAndCache() throws {
        let temp = try temporaryFolder("manifest")
        try write("abc", to: "x/a.txt", in: temp)
        let good = DatasetManifest.File(path: "x/a.txt", bytes: 3,
                                        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                        records: 1, format: "text", fields: [], split: "test", url: "https://example.invalid/a",
                                        byteIdentical: true)
        let verifier = DataVerifier(dataDirectory: DataDirectory(url: temp))
        XCTAssertNoThrow(try verifier.verify(good))
        let cache = try String(contentsOf: temp.appendingPathComponent(".bip-verified.json"), encoding: .utf8)
        XCTAssertTrue(cache.contains("x/a.txt") && cache.contains(good.sha256), cache)
        var wrongSize = good
        wrongSize.bytes = 4
        XCTAssertEqual(dataError { try verifier.verify(wrongSize) }?.description, "x/a.txt: size 3, expected 4")
        // Same size, new content, new mtime: the cache entry no longer applies.
        try write("abd", to: "x/a.txt", in: temp)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 10)],
                                              ofItemAtPath: temp.appendingPathComponent("x/a.txt").path)
        XCTAssertEqual(dataError { try verifier.verify(good) }?.problem.hasPrefix("sha256 a52d159f"), true)
    }
}
