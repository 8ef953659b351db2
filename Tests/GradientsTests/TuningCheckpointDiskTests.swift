import Foundation
import Gradients
import Runtime
import TestSupport
import XCTest

/// A tune checkpoint saved on a full or read-only disk: a `FileError` naming the file and the
/// reason, no half-written file left, and the checkpoint saved before read back exactly.
final class TuningCheckpointDiskTests: XCTestCase {
    func testAFailedSaveLeavesThePreviousCheckpointWhole() throws {
        let disk = try ScratchDisk(megabytes: 2)
        defer { disk.remove() }
        let folder = disk.url.appendingPathComponent("checkpoint")
        let tuning = try LoRATuningTests.tuning(steps: 6)
        var state = tuning.start()
        _ = tuning.step(&state)
        try TuningCheckpoint.write(state, options: tuning.options, to: folder)
        let saved = state

        _ = tuning.step(&state)
        disk.fill()
        XCTAssertThrowsError(try TuningCheckpoint.write(state, options: tuning.options, to: folder)) { error in
            XCTAssertEqual((error as? FileError)?.file, folder.appendingPathComponent("checkpoint-2.bin").path, "\(error)")
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(disk.partialFiles(), [])
        XCTAssertEqual(try TuningCheckpoint.read(from: folder, options: tuning.options), saved)

        disk.free()
        disk.remount(writable: false)
        XCTAssertThrowsError(try TuningCheckpoint.write(state, options: tuning.options, to: folder)) { error in
            XCTAssertTrue("\(error)".contains("Read-only file system"), "\(error)")
        }
        XCTAssertEqual(try TuningCheckpoint.read(from: folder, options: tuning.options), saved)
    }
}
