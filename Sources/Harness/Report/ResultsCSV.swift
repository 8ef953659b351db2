import Foundation

/// `results.csv`: one tidy row per run × task × metric (plus task `efficiency` rows for the
/// throughput figures), with a header, readable by pandas or a spreadsheet.
enum ResultsCSV {
    static let header = ["sweep", "run_id", "model", "method", "sparsity", "seed", "task", "metric", "value", "stderr", "n", "protocol"]

    static func text(_ results: SweepResults) -> String {
        var lines = [header.joined(separator: ",")]
        for job in results.jobs where job.status == .done {
            guard let runID = job.evalRunID, let run = results.runs[runID] else { continue }
            let prefix = [results.sweep.name, String(runID), results.config.model, job.methodLabel, number(job.sparsity), String(job.seed)]
            for metric in results.metrics[runID] ?? [] {
                lines.append(row(prefix + [metric.task, metric.metric, number(metric.value), metric.stderr.map(number) ?? "",
                                           String(metric.n), run.evalProtocol]))
            }
            let efficiency: [(String, Double?)] = [
                ("parameters", job.parameters.map(Double.init)), ("macs_per_token", job.macsPerToken),
                ("peak_memory_bytes", job.peakMemoryBytes.map(Double.init)), ("tokens_per_second", job.tokensPerSecond),
                ("dense_tokens_per_second", job.denseTokensPerSecond), ("speedup", job.speedup),
            ]
            for (name, value) in efficiency {
                guard let value else { continue }
                lines.append(row(prefix + ["efficiency", name, number(value), "", "", run.evalProtocol]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The shortest text that reads back as the same Double; integers without a fraction.
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func row(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
