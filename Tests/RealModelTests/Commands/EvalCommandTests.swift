import Foundation
import TestSupport
import XCTest

/// `bip eval --tasks all` end to end on the default model with a small `--limit` (the CI smoke
/// run of the command itself): the JSON document, the samples file and the stored run.
final class EvalCommandTests: XCTestCase {
    func testEveryTaskWithALimitWritesJSONSamplesAndARun() throws {
        let folder = try temporaryFolder("eval")
        let db = folder.appendingPathComponent("results.sqlite").path
        let samples = folder.appendingPathComponent("samples.jsonl")
        let outcome = try BipExecutable.run(["eval", "--model", try TestModel.ggufPath(), "--tasks", "all", "--limit", "2",
                                             "--data", try TestModel.dataDirectory().path, "--db", db,
                                             "--samples", samples.path, "--json"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let model = try XCTUnwrap(json["model"] as? [String: Any])
        // The default model's published sha256 and its parameter count (30 layers of 576 wide, GQA
        // 9→3 heads of 64, FFN 1536, tied 49152-token embedding).
        XCTAssertEqual(model["sha256"] as? String, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        XCTAssertEqual(model["parameters"] as? Int, 134_515_008)
        XCTAssertEqual(json["protocol"] as? String, "llm-pruner")
        XCTAssertNotNil(json["seconds"] as? Double)

        let tasks = try XCTUnwrap(json["tasks"] as? [String: [String: Any]])
        XCTAssertEqual(Set(tasks.keys), ["wikitext2", "ptb", "boolq", "piqa", "hellaswag", "winogrande",
                                         "arc_easy", "arc_challenge", "openbookqa"])
        for corpus in ["wikitext2", "ptb"] {
            let entry = try XCTUnwrap(tasks[corpus])
            XCTAssertEqual(entry["windows"] as? Int, 2, corpus)
            XCTAssertEqual(entry["seq_len"] as? Int, 128, corpus)
            XCTAssertEqual(entry["tokens"] as? Int, 2 * 127, "\(corpus): the first token of each window is not scored")
            let ppl = try XCTUnwrap(entry["ppl"] as? Double, corpus)
            XCTAssertTrue((5...2000).contains(ppl), "\(corpus) ppl \(ppl)")
        }

        let lines = try String(contentsOf: samples, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 7 * 2, "two documents of each zero-shot task")
        var samplesByTask: [String: [[String: Any]]] = [:]
        for line in lines {
            let sample = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            samplesByTask[try XCTUnwrap(sample["task"] as? String), default: []].append(sample)
        }
        let choiceCounts = ["boolq": 2, "piqa": 2, "hellaswag": 4, "winogrande": 2, "arc_easy": 4,
                            "arc_challenge": 4, "openbookqa": 4]
        for (name, choices) in choiceCounts {
            let entry = try XCTUnwrap(tasks[name], name)
            let taskSamples = try XCTUnwrap(samplesByTask[name], name)
            XCTAssertEqual(taskSamples.map { $0["doc_index"] as? Int }, [0, 1], name)
            XCTAssertEqual(entry["n"] as? Int, 2, name)
            var correct = 0, correctNorm = 0
            for sample in taskSamples {
                let loglikelihoods = try XCTUnwrap(sample["loglikelihoods"] as? [Double], name)
                let tokens = try XCTUnwrap(sample["continuation_tokens"] as? [Int], name)
                // The first two documents of each file have the task's usual number of choices.
                XCTAssertEqual(loglikelihoods.count, choices, name)
                XCTAssertEqual(tokens.count, choices, name)
                XCTAssertTrue(loglikelihoods.allSatisfy { $0 < 0 } && tokens.allSatisfy { $0 > 0 }, name)
                let gold = try XCTUnwrap(sample["gold"] as? Int, name)
                let prediction = try XCTUnwrap(sample["prediction_acc"] as? Int, name)
                XCTAssertEqual(loglikelihoods[prediction], loglikelihoods.max(), name)
                if prediction == gold { correct += 1 }
                if let norm = sample["prediction_acc_norm"] as? Int, norm == gold { correctNorm += 1 }
            }
            // The JSON's accuracies are the samples' own, so users can re-score from the file.
            XCTAssertEqual(entry["acc"] as? Double, Double(correct) / 2, name)
            XCTAssertNotNil(entry["acc_stderr"] as? Double, name)
            if ["boolq", "winogrande"].contains(name) {
                XCTAssertNil(entry["acc_norm"], name)
            } else {
                XCTAssertEqual(entry["acc_norm"] as? Double, Double(correctNorm) / 2, name)
                XCTAssertNotNil(entry["acc_norm_stderr"] as? Double, name)
            }
        }
        // PIQA's gold answers are the first lines of its labels file (0, then 1).
        XCTAssertEqual(samplesByTask["piqa"]?.map { $0["gold"] as? Int }, [0, 1])

        let runs = try BipExecutable.run(["runs", "--db", db])
        XCTAssertEqual(runs.status, 0, runs.stderr)
        let runLines = runs.stdout.split(separator: "\n")
        XCTAssertEqual(runLines.count, 1, runs.stdout)
        XCTAssertFalse(runLines[0].contains("unfinished"), runs.stdout)
        XCTAssertTrue(runLines[0].contains("wikitext2") && runLines[0].contains("openbookqa"), runs.stdout)
    }
}
