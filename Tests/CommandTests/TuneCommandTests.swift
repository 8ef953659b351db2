import Foundation
import TestSupport
import XCTest

/// `bip tune` on the tiny model with a tiny recipe: the C4 fallback and an Alpaca file, a plain
/// model directory out that `bip eval` reads, the record of what was tuned on, refusal to
/// overwrite a checkpoint without `--resume`, and bad data named by file, line and field.
final class TuneCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("tune")
    }

    let tiny = ["--max-steps", "2", "--batch", "2", "--micro-batch", "1", "--cutoff", "24", "--held-out", "4",
                "--eval-steps", "1", "--save-steps", "1", "--warmup", "1", "--lr", "1e-3"]

    /// `bip tune --model TINY.gguf` with `arguments`.
    func runTune(_ arguments: [String]) throws -> BipExecutable.Outcome {
        try BipExecutable.run(["tune", "--model", try TinyModel.path()] + arguments)
    }

    func record(_ directory: URL) throws -> [String: Any] {
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as! [String: Any]
        return try XCTUnwrap(config["bip_tune"] as? [String: Any])
    }

    func testC4FallbackTuneWritesAModelThatEvaluates() throws {
        let output = folder.appendingPathComponent("tuned")
        let tune = try runTune(["--data", "c4", "--output", output.path] + tiny)
        XCTAssertEqual(tune.status, 0, tune.stderr)
        XCTAssertTrue(tune.stderr.contains("tune: step 2/2, loss "), tune.stderr)
        XCTAssertTrue(tune.stderr.contains("held-out loss before tuning"), tune.stderr)
        let r = try record(output)
        XCTAssertEqual(r["data"] as? String, "c4:c4/c4-en-train.00000-of-01024.first1000.jsonl")
        XCTAssertEqual(r["loss_on"] as? String, "every token")
        XCTAssertEqual(r["steps"] as? Int, 2)
        XCTAssertEqual(r["held_out_examples"] as? Int, 4)
        let best = try XCTUnwrap(r["best_held_out_loss"] as? Double), before = try XCTUnwrap(r["held_out_loss_before"] as? Double)
        XCTAssertLessThanOrEqual(best, before)
        let eval = try BipExecutable.run(["eval", "--model", output.path, "--tasks", "wikitext2", "--limit", "2"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("wikitext2"), eval.stdout)

        // The checkpoint is not overwritten without --resume; with it, the finished tune is rewritten as it was.
        let again = try runTune(["--data", "c4", "--output", output.path] + tiny)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("pass --resume"), again.stderr)
        let weights = try Data(contentsOf: output.appendingPathComponent("model.safetensors"))
        let resumed = try runTune(["--data", "c4", "--output", output.path, "--resume"] + tiny)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 2/2"), resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: output.appendingPathComponent("model.safetensors")), weights)
        // Other options against that checkpoint: refused, naming the option.
        let other = try runTune(["--data", "c4", "--output", output.path, "--resume", "--rank", "4"] + tiny)
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("rank 8 there, 4 now"), other.stderr)
    }

    func testAlpacaFileTunesOnResponsesAndBadFieldsAreNamed() throws {
        let file = folder.appendingPathComponent("alpaca.jsonl")
        let lines = (0..<40).map { i in
            "{\"instruction\": \"Add \(i) and \(i + 1).\", \"input\": \"\", \"output\": \"The sum is \(2 * i + 1).\"}"
        }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("tuned")
        // The Alpaca prompt alone is over 100 tokens of the tiny vocabulary: a longer cutoff leaves room for the response.
        let recipe = tiny.map { $0 == "24" ? "256" : $0 }
        let tune = try runTune(["--data", file.path, "--output", output.path] + recipe)
        XCTAssertEqual(tune.status, 0, tune.stderr)
        let r = try record(output)
        XCTAssertEqual(r["data"] as? String, "alpaca:\(file.path)")
        XCTAssertEqual(r["loss_on"] as? String, "response tokens")
        XCTAssertEqual(r["training_examples"] as? Int, 36)

        try (lines[0] + "\n{\"instruction\": \"x\", \"output\": 3}\n").write(to: file, atomically: true, encoding: .utf8)
        let bad = try runTune(["--data", file.path, "--output", folder.appendingPathComponent("bad").path] + tiny)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("\(file.path):2: field \"output\": not a string"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("bad").path))
    }
}
