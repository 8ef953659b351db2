import Foundation

/// `results.csv`: one tidy row per run × task × metric (plus task `efficiency` rows for the
/// throughput figures), with a header, readable by pandas or a spreadsheet. `method` is the
/// method and its tune (`bip`, `bip w/ tune`); the pruning's departures from the method's paper
/// setting are columns of their own (`allocation`, `statistics`, `bias_compensation` on/off,
/// `layers`), empty where the job keeps the paper's. Methods that made the same model keep a
/// row each (with the same `run_id`), and `same_as` names the others, as the report shows them
/// (`bip-local = bip-gate`); empty for a model only one method made. Runs imported from other
/// evaluations' result files (`bip import`) follow, as the report's "reference N" rows: method
/// `reference N`, the model their file names, no sparsity or seed, and `source` saying where they
/// came from (empty on the sweep's own rows).
enum ResultsCSV {
    static let header = ["sweep", "run_id", "model", "method", "sparsity", "seed", "task", "metric", "value", "stderr", "n", "protocol",
                         "allocation", "statistics", "bias_compensation", "layers", "source", "same_as"]

    static func text(_ results: SweepResults) -> String {
        var lines = [header.joined(separator: ",")]
        for job in results.jobs where job.status == .done {
            guard let runID = job.evalRunID, let run = results.runs[runID] else { continue }
            let prefix = [results.sweep.name, String(runID), results.config.model, job.spec.methodAndTune, number(job.sparsity), String(job.seed)]
            let pruning = [job.allocation?.rawValue ?? "", job.statistics?.rawValue ?? "",
                           job.biasCompensation.map { $0 ? "on" : "off" } ?? "", job.layers?.description ?? ""]
            let sameAs = results.jobs.filter { $0.status == .done && $0.evalRunID == runID && $0.id != job.id }.map(\.methodLabel)
                .joined(separator: " = ")
            for metric in results.metrics[runID] ?? [] {
                lines.append(row(prefix + [metric.task, metric.metric, number(metric.value), metric.stderr.map(number) ?? "",
                                           String(metric.n), run.evalProtocol] + pruning + ["", sameAs]))
            }
            let efficiency: [(String, Double?)] = [
                ("parameters", job.parameters.map(Double.init)), ("macs_per_token", job.macsPerToken),
                ("peak_memory_bytes", job.peakMemoryBytes.map(Double.init)), ("tokens_per_second", job.tokensPerSecond),
                ("dense_tokens_per_second", job.denseTokensPerSecond), ("speedup", job.speedup),
            ]
            for (name, value) in efficiency {
                guard let value else { continue }
                lines.append(row(prefix + ["efficiency", name, number(value), "", "", run.evalProtocol] + pruning + ["", sameAs]))
            }
        }
        for (i, reference) in results.references.enumerated() {
            let source = reference.run.source!
            let prefix = [results.sweep.name, String(reference.run.id!), source.model, "reference \(i + 1)", "", ""]
            for (task, metrics) in reference.values.sorted(by: { $0.key < $1.key }) {
                for (metric, value) in metrics.sorted(by: { $0.key < $1.key }) {
                    lines.append(row(prefix + [task, metric, number(value.value), value.stderr.map(number) ?? "", String(value.n), reference.run.evalProtocol,
                                               "", "", "", "", source.label, ""]))
                }
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
