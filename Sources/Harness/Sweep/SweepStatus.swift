import Foundation
import Runtime

/// Where a sweep stands, from its stored jobs and units: per job, units done, running (by which
/// worker, on which host, since when), failed and pending; and an estimate of the time left.
/// `bip sweep --status` prints it; workers print its summary in their progress lines.
public struct SweepStatus: Sendable {
    public let jobs: [SweepJob]
    public let units: [SweepUnit]
    /// The tasks each job evaluates, by job id (a variant may ask for fewer than the sweep's).
    public let jobTasks: [Int64: [String]]

    public init(jobs: [SweepJob], units: [SweepUnit], jobTasks: [Int64: [String]]) {
        self.jobs = jobs
        self.units = units
        self.jobTasks = jobTasks
    }

    /// The stored state of the sweep planned from `config`.
    public init(store: ResultStore, sweepID: Int64, config: SweepConfig) throws {
        let jobs = try store.jobs(sweepID: sweepID)
        self.init(jobs: jobs, units: try store.units(sweepID: sweepID),
                  jobTasks: Dictionary(uniqueKeysWithValues: jobs.compactMap { job in job.id.map { ($0, config.tasks(of: job.spec)) } }))
    }

    public var jobsDone: Int { jobs.count { $0.status == .done } }
    public var jobsFailed: Int { jobs.count { $0.status == .failed } }

    /// The workers holding claims now.
    public var activeWorkers: Set<String> {
        Set(units.filter { $0.status == .running }.map { "\($0.worker ?? "?") on \($0.host ?? "?")" })
    }

    /// Seconds of work left, shared by the active workers (at least one). Each unit not done is
    /// estimated by the mean time of the done units of its kind and task (a model unit: of jobs
    /// tuned alike, since tuning is part of it). A job whose model is not made yet (so its units
    /// are not planned) is estimated part by part: a model unit, a throughput unit if the sweep
    /// has them, and for each of its tasks the mean time the done jobs spent on that task; where a
    /// part has nothing to go by, by the mean time of the done jobs. Nil while there is nothing to
    /// estimate from (no unit done, or such a job and no job done).
    public var secondsLeft: Double? {
        var byKey: [UnitGroup: [Double]] = [:]
        var perJob: [Int64: Double] = [:]
        var perJobTask: [String: [Int64: Double]] = [:]
        let tuned = Dictionary(uniqueKeysWithValues: jobs.compactMap { job in job.id.map { ($0, job.tuned) } })
        for unit in units where unit.status == .done {
            guard let seconds = unit.seconds else { continue }
            byKey[UnitGroup(unit.kind, unit.task, tuned: tuned[unit.jobID] ?? false), default: []].append(seconds)
            if unit.kind == .model { byKey[UnitGroup(.model, nil), default: []].append(seconds) }
            perJob[unit.jobID, default: 0] += seconds
            if let task = unit.task { perJobTask[task, default: [:]][unit.jobID, default: 0] += seconds }
        }
        let doneJobIDs = jobs.filter { $0.status == .done }.compactMap(\.id)
        let doneJobs = doneJobIDs.compactMap { perJob[$0] }
        let allDone = units.compactMap { $0.status == .done ? $0.seconds : nil }
        guard !allDone.isEmpty else { return nil }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let unitMean = allDone.reduce(0, +) / Double(allDone.count)
        let jobMean = mean(doneJobs)
        /// The mean time of the done units like this one: of jobs tuned alike where there are such.
        func typical(_ kind: UnitKind, _ task: String?, tuned: Bool) -> Double? {
            mean(byKey[UnitGroup(kind, task, tuned: tuned)] ?? []) ?? mean(byKey[UnitGroup(kind, task)] ?? [])
        }
        /// A job not planned yet, part by part; nil where a part has nothing to go by.
        func unplanned(_ job: SweepJob) -> Double? {
            guard let tasks = job.id.flatMap({ jobTasks[$0] }), let model = typical(.model, nil, tuned: job.tuned) else { return nil }
            var total = model + (typical(.bench, nil, tuned: job.tuned) ?? 0)
            for task in tasks {
                guard let taskMean = mean(doneJobIDs.compactMap { perJobTask[task]?[$0] }) else { return nil }
                total += taskMean
            }
            return total
        }
        let unitsByJob = Dictionary(grouping: units, by: \.jobID)
        var left = 0.0
        for job in jobs where job.status == .pending || job.status == .running {
            let own = unitsByJob[job.id ?? -1] ?? []
            let planned = own.contains { $0.kind == .model && $0.status == .done }
            if !planned {
                guard let estimate = unplanned(job) ?? jobMean else { return nil }
                left += estimate
                continue
            }
            for unit in own where unit.status == .pending || unit.status == .running {
                let estimate = typical(unit.kind, unit.task, tuned: job.tuned) ?? unitMean
                left += unit.status == .running ? estimate / 2 : estimate
            }
        }
        return left / Double(max(activeWorkers.count, 1))
    }

    /// Units estimated alike: a kind and task, and for model units whether the job is tuned (nil:
    /// every model unit; other kinds never tell).
    private struct UnitGroup: Hashable {
        let kind: UnitKind
        let task: String?
        let tuned: Bool?

        init(_ kind: UnitKind, _ task: String?, tuned: Bool? = nil) {
            (self.kind, self.task, self.tuned) = (kind, task, kind == .model ? tuned : nil)
        }
    }

    /// One line per job, and the sweep's totals.
    public var table: String {
        let unitsByJob = Dictionary(grouping: units, by: \.jobID)
        var lines = ["| job | status | done | running | failed | pending |", "|---|---|---|---|---|---|"]
        for job in jobs {
            let own = unitsByJob[job.id ?? -1] ?? []
            let running = own.filter { $0.status == .running }.map { unit in
                "\(unit.label) (\(unit.worker ?? "?") on \(unit.host ?? "?") since \(unit.claimedAt ?? "?"))"
            }
            let failed = own.filter { $0.status == .failed }.map { "\($0.label): \($0.error ?? "")" }
            lines.append("| \(job.spec.label) | \(job.status.rawValue) | \(own.count { $0.status == .done })/\(own.count) | "
                         + "\(running.joined(separator: "; ")) | \(failed.joined(separator: "; ")) | \(own.count { $0.status == .pending }) |")
        }
        let eta = secondsLeft.map { ProgressMeter.duration($0) } ?? "unknown"
        lines.append("")
        lines.append("\(jobsDone) of \(jobs.count) jobs done, \(jobsFailed) failed; units: \(units.count { $0.status == .done }) done, "
                     + "\(units.count { $0.status == .running }) running, \(units.count { $0.status == .failed }) failed, "
                     + "\(units.count { $0.status == .pending }) pending (a job's shards are planned once its model is made); "
                     + "\(activeWorkers.count) workers active; ETA \(eta)")
        return lines.joined(separator: "\n")
    }
}
