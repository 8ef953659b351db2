import Foundation
import Harness
import TestSupport
import XCTest

/// A sweep started the way people start long jobs (in the background of a shell, which starts it
/// with SIGINT ignored, under nohup; or in a session of its own with setsid) stops cleanly within
/// seconds on SIGTERM (what Slurm sends on scancel and at its time limit) or SIGINT: the running
/// job is handed back as pending, the exit status is 128 + the signal, and a resume completes it.
/// So does a sweep run as a Slurm job and cancelled with scancel (with BIP_TEST_SLURM=1).
final class SweepSignalTests: XCTestCase {
    var folder: URL!
    var environment: [String: String] = [:]
    var model = ""

    override func setUpWithError() throws {
        folder = try temporaryFolder("signal")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        environment = ["BIP_HOME": home.path, "BIP_DATA": try TestModel.dataDirectory().path]
        model = try TinyModel.path()
    }

    /// Each job's throughput is measured for two seconds (in a child `bip bench`) before its tasks,
    /// so the sweep is still running when the signal comes.
    var arguments: [String] { arguments(sparsities: "0.2") }

    func arguments(sparsities: String) -> [String] {
        ["sweep", "--model", model, "--methods", "magnitude-l2", "--sparsities", sparsities, "--tasks", "wikitext2,arc_easy", "--limit", "3",
         "--bench-seconds", "2", "--name", "signalled"]
    }

    func testSIGTERMStopsABackgroundSweepThatIgnoresSIGINT() throws {
        try interrupt(launcher: "nohup", signal: SIGTERM, resume: true)
    }

    func testSIGINTStopsABackgroundSweepThatStartedWithItIgnored() throws {
        try interrupt(launcher: "nohup", signal: SIGINT, resume: false)
    }

    /// Sent to the sweep's process group, as Ctrl-C and scancel reach every process, its child
    /// `bip bench` too (first): the job is handed back all the same, not recorded failed.
    func testSIGTERMStopsASweepInASessionOfItsOwn() throws {
        // Two pruned jobs: the second's bench child is running when the group is signalled, as
        // the tiny model evaluates the first job's tasks in milliseconds after its child died.
        try interrupt(launcher: "setsid -w", signal: SIGTERM, resume: false, sparsities: "0.2,0.3")
    }

    /// Starts the sweep as `( LAUNCHER bip sweep … ) &` from `/bin/sh -c`, waits for its first
    /// stored result, sends `signal`, and checks how it ended.
    private func interrupt(launcher: String, signal: Int32, resume: Bool, sparsities: String = "0.2") throws {
        let db = folder.appendingPathComponent("signalled.sqlite").path
        let log = folder.appendingPathComponent("sweep").path
        // The inner shell notes its pid (bip's, after exec) and the signals it starts with ignored.
        let script = """
            log=$1; shift
            ( \(launcher) sh -c 'echo $$ > "$0.pid"; grep ^SigIgn /proc/self/status > "$0.ignored"; exec "$@"' "$log" "$@" \
              > "$log.out" 2> "$log.err"; echo $? > "$log.status" ) &
            """
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script, "sh", log, try BipExecutable.url().path] + arguments(sparsities: sparsities) + ["--db", db]
        shell.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Not waited for: Foundation's Process takes the background job for part of the shell.
        try shell.run()

        let pid = try XCTUnwrap(Int32(try waitForFile(log + ".pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        if launcher == "nohup" {
            // The failing case: a shell's background job starts with SIGINT (2) ignored.
            let ignored = try waitForFile(log + ".ignored")
            let mask = try XCTUnwrap(UInt64(ignored.split(separator: "\t").last!.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16))
            XCTAssertEqual(mask & (1 << (SIGINT - 1)), 1 << (SIGINT - 1), ignored)
        }
        try waitForMetrics(db, atLeast: 1, statusFile: log + ".status")
        XCTAssertFalse(FileManager.default.fileExists(atPath: log + ".status"), "the sweep ended before the signal")
        let group = launcher.hasPrefix("setsid")
        if group {
            // setsid makes the sweep the leader of its process group, which is signalled while the
            // next job's `bip bench` child runs, the child first (as scancel may), so that the
            // sweep sees its child die of the signal before the signal reaches it.
            let deadline = Date().addingTimeInterval(60)
            while child(of: pid) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            let bench = try XCTUnwrap(child(of: pid), "no bench child")
            kill(bench, signal)
            Thread.sleep(forTimeInterval: 0.3)
        }
        let sent = Date()
        kill(group ? -pid : pid, signal)
        let status = try waitForFile(log + ".status", seconds: 30)
        let stderr = try String(contentsOfFile: log + ".err", encoding: .utf8)
        XCTAssertLessThan(Date().timeIntervalSince(sent), 10, "stopping took too long")
        XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "\(128 + signal)", stderr)
        XCTAssertTrue(stderr.contains("interrupted: every finished task is stored in \(db); continue with: bip sweep --resume --name signalled"), stderr)

        try checkHandedBack(db)
        if resume {
            let resumed = try BipExecutable.run(["sweep", "--resume", "--name", "signalled", "--db", db], environment: environment)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stdout.contains("sweep signalled: 2 of 2 jobs done, 0 failed"), resumed.stdout)
        }
    }

    /// Slurm's scancel (SIGTERM to the job's processes, SIGKILL 5 seconds later on the local
    /// cluster) stops a sweep running as a batch job just as cleanly.
    func testScancelStopsASweepRunningAsASlurmJob() throws {
        guard try LocalCluster.slurmAvailable() else { return }
        let db = folder.appendingPathComponent("signalled.sqlite").path
        let output = folder.appendingPathComponent("job.out").path
        let command = ([try BipExecutable.url().path] + arguments + ["--db", db]).map { "'\($0)'" }.joined(separator: " ")
        let sbatch = Process()
        sbatch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sbatch.arguments = ["sbatch", "--parsable", "--output=\(output)", "--wrap", "exec \(command)"]
        sbatch.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        sbatch.standardOutput = out
        try sbatch.run()
        let job = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        sbatch.waitUntilExit()
        XCTAssertEqual(sbatch.terminationStatus, 0)
        try waitForMetrics(db, atLeast: 1, statusFile: output + ".never")
        let scancel = Process()
        scancel.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        scancel.arguments = ["scancel", job]
        try scancel.run()
        scancel.waitUntilExit()
        try LocalCluster.waitUntilGone(job)
        let log = try String(contentsOfFile: output, encoding: .utf8)
        XCTAssertTrue(log.contains("interrupted: every finished task is stored in \(db)"), log)
        try checkHandedBack(db)
    }

    /// The job that was running is pending again, this attempt not counted; nothing is left running.
    private func checkHandedBack(_ db: String) throws {
        let store = try ResultStore(path: db)
        let jobs = try store.jobs(sweepID: try XCTUnwrap(try store.sweep(named: "signalled")?.id))
        XCTAssertFalse(jobs.contains { $0.status == .running || $0.status == .failed }, "\(jobs.map { "\($0.status) \($0.error ?? "")" })")
        XCTAssertTrue(jobs.contains { $0.status == .pending }, "\(jobs.map(\.status))")
        let units = try store.units(sweepID: try XCTUnwrap(jobs.first?.sweepID))
        XCTAssertFalse(units.contains { $0.status == .running }, "\(units.map { "\($0.label) \($0.status)" })")
        XCTAssertEqual(units.map(\.attempts), units.map { $0.status == .done ? 1 : 0 }, "an interruption is not an attempt")
    }

    /// A process whose parent is `pid` (/proc/N/stat: "N (name) state ppid …").
    private func child(of pid: Int32) -> Int32? {
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return processes.first { entry in
            guard entry.allSatisfy(\.isNumber), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.range(of: ") ", options: .backwards) else { return false }
            return stat[end.upperBound...].split(separator: " ").dropFirst().first == "\(pid)"
        }.flatMap { Int32($0) }
    }

    /// The contents of `path` once it exists and is not empty.
    private func waitForFile(_ path: String, seconds: TimeInterval = 120) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") { return text }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Timeout(description: "\(path) did not appear within \(Int(seconds)) s")
    }

    private struct Timeout: Error, CustomStringConvertible { let description: String }

    /// Waits until the database holds at least `count` task metrics (or the sweep has ended).
    private func waitForMetrics(_ db: String, atLeast count: Int, statusFile: String) throws {
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && !FileManager.default.fileExists(atPath: statusFile) {
            if FileManager.default.fileExists(atPath: db), let store = try? ResultStore(path: db), let runs = try? store.runs(),
               try runs.reduce(0, { $0 + (try store.metrics(runID: $1.id!).count) }) >= count {
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
