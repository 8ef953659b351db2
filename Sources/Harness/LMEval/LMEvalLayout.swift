import Foundation

/// The file names of lm-evaluation-harness's output (`EvaluationTracker.save_results_aggregated`
/// and `save_results_samples`): in `OUTPUT/<sanitized model name>/`, `results_<date id>.json` and
/// one `samples_<task>_<date id>.jsonl` per task, the date id being the ISO time with `-` for `:`.
enum LMEvalLayout {
    /// The model name with every run of `"<>:/|\?*[]` made `__` (the harness's `sanitize_model_name`).
    static func sanitizedModelName(_ name: String) -> String {
        name.replacingOccurrences(of: #"["<>:/|\\?*\[\]]+"#, with: "__", options: .regularExpression)
    }

    /// The date id of a run started at `iso` (`2026-01-02T03:04:05Z` -> `2026-01-02T03-04-05`),
    /// as Python's `datetime.isoformat()` writes a time without microseconds.
    static func dateID(startedAt iso: String) -> String {
        var text = iso
        if text.hasSuffix("Z") { text.removeLast() }
        return text.replacingOccurrences(of: ":", with: "-")
    }

    static func resultsFile(_ dateID: String) -> String { "results_\(dateID).json" }
    static func samplesFile(task: String, _ dateID: String) -> String { "samples_\(task)_\(dateID).jsonl" }

    /// The date id of a results file's name, nil if the name is not `results_<date id>.json`.
    static func dateID(ofResultsFile name: String) -> String? {
        guard name.hasPrefix("results_"), name.hasSuffix(".json") else { return nil }
        return String(name.dropFirst("results_".count).dropLast(".json".count))
    }

    /// The task of a samples file of date id `dateID`, nil if `name` is not one.
    static func task(ofSamplesFile name: String, dateID: String) -> String? {
        let suffix = "_\(dateID).jsonl"
        guard name.hasPrefix("samples_"), name.hasSuffix(suffix), name.count > "samples_".count + suffix.count else { return nil }
        return String(name.dropFirst("samples_".count).dropLast(suffix.count))
    }
}
