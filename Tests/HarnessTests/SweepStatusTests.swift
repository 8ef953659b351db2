@testable import Harness
import Tasks
import XCTest

/// `bip sweep --status` and the workers' ETA, from stored jobs and units: the time left is each
/// unit's mean time of its kind and task, a job whose units are not planned yet the mean of the
/// done jobs, shared by the workers holding claims.
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
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units).secondsLeft, 5 + 20 + 32)
        units[5].status = .running
        units[5].worker = "slurm 7_1"
        units[5].host = "node2"
        XCTAssertEqual(SweepStatus(jobs: jobs, units: units).secondsLeft, (5 + 10 + 32) / 2, "two workers share it")
        let table = SweepStatus(jobs: jobs, units: units).table
        XCTAssertTrue(table.contains("| bip @ 0.20 seed 0 | running | 1/3 | piqa shard 1 (slurm 7_0 on node1 since 2026-12-05T05:00:00Z); "
                                     + "arc_easy shard 1 (slurm 7_1 on node2 since ?) |  | 0 |"), table)
        XCTAssertTrue(table.hasSuffix("1 of 3 jobs done, 0 failed; units: 4 done, 2 running, 0 failed, 1 pending "
                                      + "(a job's shards are planned once its model is made); 2 workers active; ETA 24s"), table)
        XCTAssertNil(SweepStatus(jobs: jobs, units: units.map { var u = $0; u.status = .pending; return u }).secondsLeft)
        // A job not planned yet and no job done to estimate it by: unknown rather than too short.
        var unfinished = jobs
        unfinished[0].status = .running
        units[2].status = .pending
        XCTAssertNil(SweepStatus(jobs: unfinished, units: units).secondsLeft)
    }
}
