@testable import Harness
import Tasks
import XCTest

/// `bip sweep --status` and the workers' ETA, from stored jobs and units: the time left is each
/// unit's mean time of its kind and task, a job whose units are not planned yet its parts (model,
/// throughput, each of its tasks) or else the mean of the done jobs, shared by the workers holding
/// claims.
final class SweepStatusTests: XCTestCase {
    func testTheTimeLeftAndTheTable() {
        let jobs = (0..<3).map { SweepJob(id: Int64($0), sweepID: 1, position: $0, method: $0 == 0 ? "dense" : "bip", sparsity: $0 == 0 ? 0 : 0.2,
                                          seed: 0, status: [.done, .running, .pending][$0]) }
        func unit(_ job: Int64, _ position: Int, _ kind: UnitKind, _ task: String? = nil, _ status: JobStatus, seconds: Double? = nil,
                  worker: String? = nil) -> SweepUnit {
            var unit = SweepUnit(sweepID: 1, jobID: job, position: position, kind: kind,
                                 shard: task.map { TaskShard(task: $0, index: 0, first: 0, count: 4) }, status: status)
            unit.seconds = seconds
            unit.worker = worker
            unit.host = worker.map { _ in "node1" }
            unit.claimedAt = worker.map { _ in "2026-12-05T05:00:00Z" }
            return unit
        }
        var units = [
            unit(0, 0, .model, nil, .done, seconds: 2), unit(0, 1, .shard, "piqa", .done, seconds: 10), unit(0, 2, .shard, "arc_easy", .done, seconds: 20),
            unit(1, 0, .model, nil, .done, seconds: 6), unit(1, 1, .shard, "piqa", .running, worker: "slurm 7_0"),
            unit(1, 2, .shard, "arc_easy", .pending),
            unit(2, 0, .model, nil, .pending),
        ]
        // Job 1: half of piqa's 10 s (running) and arc_easy's 20 s; job 2 (not planned): the done job's 32 s.
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units, jobTasks: [:]).secondsLeft, 5 + 20 + 32)
        units[5].status = .running
        units[5].worker = "slurm 7_1"
        units[5].host = "node2"
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units, jobTasks: [:]).secondsLeft, (5 + 10 + 32) / 2, "two workers share it")
        let table = SweepStatus(jobs: jobs, units: units, jobTasks: [:]).table
        XCTAssertTrue(table.contains("| bip @ 0.20 seed 0 | running | 1/3 | piqa shard 1 (slurm 7_0 on node1 since 2026-12-05T05:00:00Z); "
                                     + "arc_easy shard 1 (slurm 7_1 on node2 since ?) |  | 0 |"), table)
        XCTAssertTrue(table.hasSuffix("1 of 3 jobs done, 0 failed; units: 4 done, 2 running, 0 failed, 1 pending "
                                      + "(a job's shards are planned once its model is made); 2 workers active; ETA 24s"), table)
        XCTAssertNil(SweepStatus(jobs: jobs, units: units.map { var u = $0; u.status = .pending; return u }, jobTasks: [:]).secondsLeft)
        // A job not planned yet and no job done to estimate it by: unknown rather than too short.
        var unfinished = jobs
        unfinished[0].status = .running
        units[2].status = .pending
        XCTAssertNil(SweepStatus(jobs: unfinished, units: units, jobTasks: [:]).secondsLeft)
    }

    /// A job not planned yet, by parts: a variant that evaluates one task of three is not
    /// estimated as a whole job, and a tuned job's model unit by the tuned jobs' model units.
    func testAJobNotPlannedYetIsEstimatedByItsParts() {
        func job(_ id: Int64, _ status: JobStatus, tuned: Bool = false) -> SweepJob {
            SweepJob(id: id, sweepID: 1, position: Int(id), method: id == 0 ? "dense" : "bip", sparsity: id == 0 ? 0 : 0.2, seed: 0, tuned: tuned, status: status)
        }
        func unit(_ job: Int64, _ position: Int, _ kind: UnitKind, _ task: String?, seconds: Double?) -> SweepUnit {
            var unit = SweepUnit(sweepID: 1, jobID: job, position: position, kind: kind,
                                 shard: task.map { TaskShard(task: $0, index: 0, first: 0, count: 4) }, status: seconds == nil ? .pending : .done)
            unit.seconds = seconds
            return unit
        }
        let jobs = [job(0, .done), job(1, .done, tuned: true), job(2, .pending), job(3, .pending, tuned: true)]
        let units = [
            // Dense: model 2 s, bench 3 s, wikitext2 100 s in two shards, piqa 10 s, arc_easy 20 s.
            unit(0, 0, .model, nil, seconds: 2), unit(0, 1, .bench, nil, seconds: 3), unit(0, 2, .shard, "wikitext2", seconds: 60),
            unit(0, 3, .shard, "wikitext2", seconds: 40), unit(0, 4, .shard, "piqa", seconds: 10), unit(0, 5, .shard, "arc_easy", seconds: 20),
            // Tuned bip: model (with its tuning) 50 s, bench 5 s, wikitext2 80 s, piqa 14 s, arc_easy 16 s.
            unit(1, 0, .model, nil, seconds: 50), unit(1, 1, .bench, nil, seconds: 5), unit(1, 2, .shard, "wikitext2", seconds: 80),
            unit(1, 3, .shard, "piqa", seconds: 14), unit(1, 4, .shard, "arc_easy", seconds: 16),
            unit(2, 0, .model, nil, seconds: nil), unit(3, 0, .model, nil, seconds: nil),
        ]
        // Job 2 (untuned, WikiText2 only): untuned model 2 + bench mean 4 + wikitext2 mean (100 + 80) / 2 = 96.
        // Job 3 (tuned, all three): tuned model 50 + bench 4 + 90 + piqa 12 + arc_easy 18 = 174.
        let tasks: [Int64: [String]] = [2: ["wikitext2"], 3: ["wikitext2", "piqa", "arc_easy"]]
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units, jobTasks: tasks).secondsLeft, 96 + 174)
        // Without the jobs' tasks: each the done jobs' mean, (135 + 165) / 2 = 150.
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units, jobTasks: [:]).secondsLeft, 150 + 150)
        // A task no done job ran: that job falls back to the done jobs' mean.
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units, jobTasks: [2: ["boolq"], 3: tasks[3]!]).secondsLeft, 150 + 174)
    }
}
