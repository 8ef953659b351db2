import Foundation
import TestSupport
import XCTest

/// A niced bip that leads its session (`setsid nice bip …`, as a background sweep is started)
/// lowers its session's scheduling group too, so that it leaves the cores to other sessions; a
/// niced bip in another process's session leaves that session's group alone.
final class SessionGroupCommandTests: XCTestCase {
    /// The nice value of process `pid`'s session group, nil once the process is gone.
    static func groupNice(_ pid: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/autogroup"),
              let last = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).last else { return nil }
        return Int32(last)
    }

    /// The ids of the running processes whose environment holds `marker`.
    static func processes(marked marker: String) -> [String] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return ids.filter { $0.allSatisfy(\.isNumber) }.filter { id in
            guard let environment = FileManager.default.contents(atPath: "/proc/\(id)/environ") else { return false }
            return environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == marker }
        }
    }

    /// Runs `launcher` then `bip bench` on the tiny model for 3 s and returns the nice values of
    /// bip's session group seen while it ran, in the order they were seen.
    func groupNiceWhileRunning(_ launcher: [String]) throws -> [Int32] {
        let marker = "BIP_TEST_SESSION_GROUP=\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [marker] + launcher + [try BipExecutable.url().path, "bench", "--model", try TinyModel.path(),
                                                   "--seconds", "3", "--no-sgemm", "--batch", "1", "--seq-len", "16"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen: [Int32] = []
        while process.isRunning {
            for id in Self.processes(marked: marker) where (try? String(contentsOfFile: "/proc/\(id)/comm", encoding: .utf8))?.hasPrefix("bip") == true {
                if let nice = Self.groupNice(id) { seen.append(nice) }
            }
            usleep(50_000)
        }
        XCTAssertEqual(process.terminationStatus, 0, "bip bench under \(launcher)")
        return seen
    }

    func testANicedSessionLeaderLowersItsSessionGroup() throws {
        guard let own = Self.groupNice("self") else { throw XCTSkip("this kernel keeps no session groups (/proc/self/autogroup)") }
        // A new session's group starts at nice 0, which the first samples can see before bip lowers it.
        XCTAssertEqual(Set(try groupNiceWhileRunning(["setsid", "nice", "-n", "7"]).drop { $0 == 0 }), [7], "bip leads its session")
        XCTAssertEqual(Set(try groupNiceWhileRunning(["nice", "-n", "7"])), [own], "bip in the test's session")
        XCTAssertEqual(Self.groupNice("self"), own, "the test's own group is untouched")
    }
}
