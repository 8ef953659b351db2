import Dispatch
import Foundation
import Runtime
import Tasks

/// The sweep's throughput probe: `bip bench --json` run in a child process (this executable
/// again), so that each model's peak memory is its own.
public enum BenchProbe {
    public static func childProcess(data: DataDirectory) -> ThroughputProbe {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return { path, against, seconds, compute in
            let process = Process()
            process.executableURL = executable
            process.arguments = ["bench", "--model", path, "--seconds", String(seconds), "--no-sgemm", "--json", "--data", data.url.path,
                                 "--compute", compute.rawValue]
                + (against.map { ["--against", $0] } ?? [])
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            SweepInterruption.child = process.processIdentifier
            defer { SweepInterruption.child = 0 }
            // stderr is read on another thread, so that neither pipe fills up and blocks the child.
            nonisolated(unsafe) var errors = Data()
            let drained = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                errors = err.fileHandleForReading.readDataToEndOfFile()
                drained.signal()
            }
            let output = out.fileHandleForReading.readDataToEndOfFile()
            drained.wait()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let report = try? JSONDecoder().decode(BenchReport.self, from: output) else {
                throw FileError(path, "throughput measurement failed: \(String(decoding: errors, as: UTF8.self).split(separator: "\n").last ?? "")")
            }
            return ThroughputFigures(report)
        }
    }
}
