import Foundation
import Harness
import TestSupport
import XCTest

/// `bip eval --output-path`, `bip export`, `bip import lm-eval` and `bip --version` as a user runs them.
final class LMEvalCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("lmeval-cli")
    }

    func bip(_ arguments: [String]) throws -> BipExecutable.Outcome {
        try BipExecutable.run(arguments, environment: ["BIP_DATA": try TestModel.dataDirectory().path])
    }

    func testVersionNamesTheCommit() throws {
        let outcome = try bip(["--version"])
        XCTAssertEqual(outcome.status, 0)
        let commit = try XCTUnwrap(outcome.stdout.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(outcome.stdout.hasPrefix("bip 0.1.0, commit "), outcome.stdout)
        XCTAssertEqual(commit.count, 40, outcome.stdout)
        XCTAssertTrue(commit.allSatisfy(\.isHexDigit), outcome.stdout)
    }

    func testEvalWritesFilesThatImportAndExportAgain() throws {
        let out = folder.appendingPathComponent("out")
        let db = folder.appendingPathComponent("bip.sqlite").path
        let eval = try bip(["eval", "--model", try TinyModel.path(), "--tasks", "wikitext2,piqa", "--limit", "2", "--db", db,
                            "--output-path", out.path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let written = eval.stderr.split(separator: "\n").filter { $0.hasPrefix("wrote ") }.map { String($0.dropFirst("wrote ".count)) }
        XCTAssertEqual(written.map { URL(fileURLWithPath: $0).lastPathComponent.prefix(8) }, ["results_", "samples_", "samples_"])
        XCTAssertTrue(written.allSatisfy { FileManager.default.fileExists(atPath: $0) })

        let other = folder.appendingPathComponent("other.sqlite").path
        let imported = try bip(["import", "lm-eval", out.path, "--db", other])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.hasPrefix("run 1 imported: \(try TinyModel.path()) (bip 0.1.0, \(written[0])); tasks piqa,wikitext2"), imported.stdout)
        let runs = try bip(["runs", "--db", other])
        XCTAssertTrue(runs.stdout.contains("\tpiqa,wikitext2\timported from "), runs.stdout)

        // Imported beside the run it came from, it is a gate baseline that the run meets exactly.
        XCTAssertEqual(try bip(["import", "lm-eval", out.path, "--db", db]).status, 0)
        let gate = try bip(["gate", "--db", db, "--baseline-run", "2"])
        XCTAssertEqual(gate.status, 0, gate.stdout + gate.stderr)
        XCTAssertTrue(gate.stdout.contains("ok         dense piqa acc (limit 2): baseline "), gate.stdout)
        XCTAssertTrue(gate.stdout.hasSuffix("gate passed: 3 results within tolerance\n"), gate.stdout)

        // The imported run exports to the same files, byte for byte but for its recorded source and model type.
        let again = folder.appendingPathComponent("again")
        let export = try bip(["export", "--db", other, "--run", "1", "--output-path", again.path])
        XCTAssertEqual(export.status, 0, export.stderr)
        let files = export.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(files.map { URL(fileURLWithPath: $0).lastPathComponent }, written.map { URL(fileURLWithPath: $0).lastPathComponent })
        for (a, b) in zip(files, written).dropFirst() {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)), a)
        }
        func withoutSource(_ path: String) throws -> JSONValue {
            guard case .object(var file) = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path)), file: path),
                  case .object(var config)? = file["config"], case .object(var record)? = config["bip"] else { return .null }
            XCTAssertEqual(record.removeValue(forKey: "source") != nil, path == files[0], path)
            XCTAssertEqual(config.removeValue(forKey: "model"), .string(path == files[0] ? "imported from bip 0.1.0" : "bip"), path)
            config["bip"] = .object(record)
            file["config"] = .object(config)
            return .object(file)
        }
        XCTAssertEqual(try withoutSource(files[0]), try withoutSource(written[0]))
        XCTAssertNotEqual(try withoutSource(files[0]), .null)
    }

    func testBadFileAndBadArguments() throws {
        let bad = folder.appendingPathComponent("results_2024-01-01T00-00-00.json")
        try Data(#"{"results": {"boolq": {"acc,none": "N/A"}}}"#.utf8).write(to: bad)
        let db = folder.appendingPathComponent("bip.sqlite").path
        let outcome = try bip(["import", "lm-eval", bad.path, "--db", db])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertEqual(outcome.stderr, "error: \(bad.path): field \"results.boolq.acc,none\": not a number: \"N/A\"\n")
        let both = try bip(["export", "--db", db, "--run", "1", "--sweep", "s", "--output-path", folder.path])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give exactly one of --run and --sweep"), both.stderr)
        let missing = try bip(["export", "--db", db, "--run", "7", "--output-path", folder.path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "error: \(db): no evaluation run 7\n")
    }
}
