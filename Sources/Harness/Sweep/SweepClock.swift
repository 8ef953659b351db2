import Foundation
import Runtime

/// Progress of a whole sweep for its status lines: jobs done of total, the current job, and an
/// ETA from the rate of this run. Work is counted in units: per job, one for its model (prune,
/// throughput) and one per task, with the running task's own progress as a fraction of a unit.
/// Units that need no work in this run (the dense model's, tasks stored before) are skipped:
/// they leave the total rather than count as done, so they do not inflate the rate.
final class SweepClock {
    private let jobsTotal: Int
    private var jobsDone: Int
    private var units: Int
    private let unitsPerJob: Int
    private var unitsDone = 0.0
    private var fraction = 0.0
    private(set) var unitsInJob = 0
    private var job = ""
    private let started = Date()

    init(jobsTotal: Int, jobsDone: Int, jobsToRun: Int, unitsPerJob: Int) {
        self.jobsTotal = jobsTotal
        self.jobsDone = jobsDone
        self.unitsPerJob = unitsPerJob
        units = max(jobsToRun * unitsPerJob, 1)
    }

    func startJob(_ label: String) {
        job = label
        unitsInJob = 0
        fraction = 0
    }

    func advance(_ count: Int) {
        unitsDone += Double(count)
        unitsInJob += count
        fraction = 0
    }

    func skip(_ count: Int) {
        units = max(units - max(count, 0), 1)
        unitsInJob += max(count, 0)
    }

    func within(_ fraction: Double) { self.fraction = min(max(fraction, 0), 1) }

    func finishJob() { jobsDone += 1 }

    func line(_ what: String) -> String {
        let done = unitsDone + fraction
        let elapsed = Date().timeIntervalSince(started)
        let eta = done > 0 ? elapsed * (Double(units) - done) / done : 0
        return String(format: "job %d/%d (%@) %@; %.1f%% of this run in %@, %.2f jobs/h, ETA %@",
                      jobsDone + 1, jobsTotal, job, what, 100 * done / Double(units), ProgressMeter.duration(elapsed),
                      elapsed > 0 ? 3600 * done / Double(unitsPerJob) / elapsed : 0,
                      ProgressMeter.duration(eta))
    }
}
