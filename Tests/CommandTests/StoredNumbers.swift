import Foundation
import Harness
import XCTest

/// Every stored number of the database `db`: each sweep job's metrics, per-document answers and
/// window NLL sums (as bits), one line each; every job must be done.
func storedNumbers(_ db: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
    let store = try ResultStore(path: db)
    var lines: [String] = []
    for sweep in try store.sweeps() {
        for job in try store.jobs(sweepID: sweep.id!) {
            XCTAssertEqual(job.status, .done, "\(job.method): \(job.error ?? "")", file: file, line: line)
            let run = try XCTUnwrap(job.evalRunID, file: file, line: line)
            for m in try store.metrics(runID: run) {
                lines.append("\(job.methodLabel) \(m.task) \(m.metric) \(m.value.bitPattern) \(m.stderr?.bitPattern ?? 0) \(m.n)")
                for s in try store.samples(runID: run, task: m.task) {
                    lines.append("\(job.methodLabel) \(m.task) \(s.docIndex) \(s.loglikelihoods) \(s.predictionAcc) \(s.predictionAccNorm ?? -1)")
                }
                for w in try store.windows(runID: run, task: m.task) {
                    lines.append("\(job.methodLabel) \(m.task) \(w.windowIndex) \(w.nllSum.bitPattern) \(w.tokens)")
                }
            }
        }
    }
    return lines
}
