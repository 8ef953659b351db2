import ArgumentParser
import Foundation
import Harness
import Runtime

/// `bip gate`: the newest stored results against a committed baseline; exit 1 on a regression.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Compare the newest results with a baseline; exit 1 listing every regression.")
    @OptionGroup var database: DatabaseOption
    @Option(help: "The baseline JSON file.") var baseline = "reports/baseline.json"
    @Option(help: "Only the results of this sweep.") var sweep: String?
    @Option(name: .customLong("baseline-run"), help: "Use this imported run (bip import lm-eval) as the baseline instead of the baseline file.")
    var baselineRun: Int64?
    @Option(name: .customLong("max-ppl-increase"), help: "Largest allowed perplexity rise, as a fraction of the baseline.") var maxPplIncrease = 0.01
    @Option(name: .customLong("max-acc-drop"), help: "Largest allowed accuracy drop (absolute, 0.02 = 2 points).") var maxAccDrop = 0.02
    @Flag(name: .customLong("write-baseline"), help: "Record the current results as the new baseline instead of comparing.") var writeBaseline = false
    @Flag(help: "Print the comparison as JSON.") var json = false

    func validate() throws {
        guard maxPplIncrease >= 0, maxAccDrop >= 0 else { throw ValidationError("tolerances must not be negative") }
    }

    func run() throws {
        let failed: Bool = try reportingErrors {
            let store = try ResultStore.existing(path: database.path)
            let current = try store.newestResults(sweep: sweep)
            if writeBaseline {
                guard !current.isEmpty else { throw FileError(store.path, "holds no results to make a baseline of") }
                try Baseline(entries: current).write(to: baseline)
                print("wrote \(current.count) results to \(baseline)")
                return false
            }
            let (checks, new) = RegressionGate(maxPerplexityIncrease: maxPplIncrease, maxAccuracyDrop: maxAccDrop)
                .compare(try baselineRun.map { try store.importedBaseline(runID: $0, for: current) } ?? Baseline.load(baseline), with: current, windows: { try? store.windows(runID: $0, task: $1) })
            let bad = checks.filter { $0.verdict != .ok }
            if json {
                try Console.printJSON([
                    "passed": bad.isEmpty, "checked": checks.count, "new": new.map(\.label),
                    "checks": checks.map { check -> [String: Any] in
                        ["result": check.key.label, "verdict": check.verdict.rawValue, "baseline": check.baseline,
                         "now": check.now.map { $0 as Any } ?? NSNull(), "allowed": check.allowed,
                         "test": check.test, "p_value": check.pValue.map { $0 as Any } ?? NSNull()]
                    },
                ])
            } else {
                for check in checks {
                    let now = check.now.map { String(format: "%.4f", $0) } ?? "missing"
                    let p = check.pValue.map { String(format: "  %@ p=%.3g", check.test, $0) }
                        ?? (check.key.metric == "ppl" && check.now != nil ? "  bootstrap p=n/a" : "")
                    print(check.verdict.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                          + String(format: "%@: baseline %.4f, now %@, allowed %.4f%@", check.key.label, check.baseline, now, check.allowed, p))
                }
                for key in new { print("new        \(key.label): not in the baseline") }
                print(bad.isEmpty ? "gate passed: \(checks.count) results within tolerance"
                                  : "gate FAILED: \(bad.count) of \(checks.count) results regressed or are missing")
            }
            return !bad.isEmpty
        }
        if failed { throw ExitCode(1) }
    }
}
