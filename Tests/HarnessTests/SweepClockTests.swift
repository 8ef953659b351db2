@testable import Harness
import XCTest

/// The sweep's status line: units that need no work in this run leave the total instead of
/// counting as done, so the percentage and ETA reflect the work actually left.
final class SweepClockTests: XCTestCase {
    func testSkippedUnitsLeaveTheTotal() {
        // Two jobs of one task each: 4 units; the dense model's unit needs no work.
        let clock = SweepClock(jobsTotal: 2, jobsDone: 0, jobsToRun: 2, unitsPerJob: 2)
        clock.startJob("dense")
        clock.skip(1)
        clock.within(0.5)
        XCTAssertTrue(clock.line("wikitext2").contains("16.7% of this run"), clock.line("wikitext2"))
        clock.advance(1)
        clock.finishJob()
        clock.startJob("bip @ 0.20")
        XCTAssertEqual(clock.unitsInJob, 0)
        clock.advance(1)
        XCTAssertTrue(clock.line("x").hasPrefix("job 2/2 (bip @ 0.20) x; 66.7% of this run"), clock.line("x"))
    }
}
