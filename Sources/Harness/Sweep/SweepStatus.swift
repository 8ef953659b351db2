import Foundation
import Runtime

/// Where a sweep stands, from its stored jobs and units: per job, units done, running (by which
/// worker, on which host, since when), failed and pending; and an estimate of the time left.
/// `bip sweep --status` prints it; workers print its summary in their progress lines.
public struct SweepStatus: Sendable {
    public let jobs: [SweepJob]
    public let units: [SweepUnit]

    public init(jobs: [SweepJob], units: [SweepUnit]) {
        self.jobs = jobs
        self.units = units
    }

    public init(store: ResultStore, sweepID: Int64) throws {
        self.init(jobs: try store.jobs(sweepID: sweepID), units: try store.units(sweepID: sweepID))
    }

    public var jobsDone: Int { jobs.count { $0.status == .done } }
    public var jobsFailed: Int { jobs.count { $0.status == .failed } }

    /// The workers holding claims now.
    public var activeWorkers: Set<String> {
        Set(units.filter { $0.status == .running }.map { "\($0.worker ?? "?") on \($0.host ?? "?")" })
    }

    /// Seconds of work left, shared by the active workers (at least one): each unit not done is
    /// estimated by the mean time of the done units of its kind and task, and a job whose model
    /// is not made yet (so its units are not planned) by the mean time of the done jobs; nil
    /// while there is nothing to estimate from (no unit done, or such a job and no job done).
    public var secondsLeft: Double? {
        var byKey: [String: [Double]] = [:]
        var perJob: [Int64: Double] = [:]
        for unit in units where unit.status == .done {
            guard let seconds = unit.seconds else { continue }
            byKey[Self.key(unit), default: []].append(seconds)
            perJob[unit.jobID, default: 0] += seconds
        }
        let doneJobs = jobs.filter { $0.status == .done }.compactMap { $0.id.flatMap { perJob[$0] } }
        let allDone = units.compactMap { $0.status == .done ? $0.seconds : nil }
        guard !allDone.isEmpty else { return nil }
        let unitMean = allDone.reduce(0, +) / Double(allDone.count)
        let jobMean = doneJobs.isEmpty ? nil : doneJobs.reduce(0, +) / Double(doneJobs.count)
        let unitsByJob = Dictionary(grouping: units, by: \.jobID)
        var left = 0.0
        for job in jobs where job.status == .pending || job.status == .running {
            let own = unitsByJob[job.id ?? -1] ?? []
            let planned = own.contains { $0.kind == .model && $0.status == .done }
            if !planned {
                guard let jobMean else { return nil }
                left += jobMean
                continue
            }
            for unit in own where unit.status == .pending || unit.status == .running {
                let estimate = byKey[Self.key(unit)].map { $0.reduce(0, +) / Double($0.count) } ?? unitMean
                left += unit.status == .running ? estimate / 2 : estimate
            }
        }
        return left / Double(max(activeWorkers.count, 1))
    }

    private static func key(_ unit: SweepUnit) -> String { "\(unit.kind.rawValue) \(unit.task ?? "")" }

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
