import Foundation
import Runtime

/// A sweep's workers as one Slurm job array: the batch script whose every task runs
/// `bip worker --db DB --sweep NAME` (until no unit is left, or its time is nearly up), and the
/// script's submission with `sbatch`.
public struct SlurmBatch: Equatable, Sendable {
    /// The sweep the workers run.
    public var sweep: String
    /// The store as every node reaches it: a PostgreSQL URL, or an absolute SQLite path.
    public var db: String
    /// Tasks of the array, one worker each.
    public var workers: Int
    /// The `bip` executable the nodes run.
    public var executable: String
    /// Where each task writes its output (`slurm-SWEEP-JOB_TASK.out`).
    public var logDirectory: String
    public var partition: String?
    /// The time limit of each task; the worker stops taking units `workerBudget` into it.
    public var time: WallTime?
    /// CPUs of each task, and so the threads of its BLAS (default 1).
    public var cpusPerTask: Int?
    /// Memory of each task, as sbatch takes it (`16G`).
    public var memory: String?
    /// More `#SBATCH` options, each as given (`--account=abc`).
    public var sbatchArguments: [String]
    /// `BIP_HOME` and `BIP_DATA` of the workers (nil: the environment sbatch passes on).
    public var home: String?
    public var data: String?

    public init(sweep: String, db: String, workers: Int, executable: String, logDirectory: String, partition: String? = nil,
                time: WallTime? = nil, cpusPerTask: Int? = nil, memory: String? = nil, sbatchArguments: [String] = [],
                home: String? = nil, data: String? = nil) {
        self.sweep = sweep
        self.db = db
        self.workers = workers
        self.executable = executable
        self.logDirectory = logDirectory
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.sbatchArguments = sbatchArguments
        self.home = home
        self.data = data
    }

    /// The batch script's file name, beside the report.
    public var scriptName: String { "slurm-\(sweep).sh" }

    /// The batch script.
    public var script: String {
        let threads = cpusPerTask ?? 1
        var options = ["--job-name=bip-\(sweep)", "--array=0-\(workers - 1)",
                       "--output=\((logDirectory as NSString).appendingPathComponent("slurm-\(sweep)-%A_%a.out"))"]
        if let partition { options.append("--partition=\(partition)") }
        if let time { options.append("--time=\(time.slurm)") }
        if let cpusPerTask { options.append("--cpus-per-task=\(cpusPerTask)") }
        if let memory { options.append("--mem=\(memory)") }
        options += sbatchArguments
        var exports = ["OPENBLAS_NUM_THREADS=\(threads)", "OMP_NUM_THREADS=\(threads)"]
        if let home { exports.append("BIP_HOME=\(Self.quoted(home))") }
        if let data { exports.append("BIP_DATA=\(Self.quoted(data))") }
        var command = [Self.quoted(executable), "worker", "--db", Self.quoted(db), "--sweep", Self.quoted(sweep)]
        if let time { command += ["--max-time", time.workerBudget.description] }
        return (["#!/bin/bash"] + options.map { "#SBATCH \($0)" } + [
            "# The workers of bip sweep \(sweep): each task of the array runs units of the sweep until none is left.",
            "set -eu",
        ] + exports.map { "export \($0)" } + ["exec " + command.joined(separator: " ")]).joined(separator: "\n") + "\n"
    }

    /// `text` as one word of a POSIX shell.
    static func quoted(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-:@%+=,".contains($0)) }
        return plain && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Submits the batch script at `script` with `sbatch --parsable` and returns the job's id.
    public static func submit(_ script: URL) throws -> String {
        guard let sbatch = executableInPath("sbatch") else {
            throw SlurmError("sbatch not found in PATH: submit from a machine with the Slurm client commands (or see --dry-run)")
        }
        let process = Process()
        process.executableURL = sbatch
        process.arguments = ["--parsable", script.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr is read on another thread, so that neither pipe fills up and blocks sbatch.
        nonisolated(unsafe) var errors = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errors = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        drained.wait()
        process.waitUntilExit()
        let message = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw SlurmError("sbatch \(script.path) failed (exit \(process.terminationStatus)): \(message)")
        }
        // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
        let id = output.split(whereSeparator: \.isNewline).last.map { String($0.prefix { $0 != ";" }) } ?? ""
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw SlurmError("sbatch \(script.path) printed no job id: \(output) \(message)")
        }
        return id
    }

    private static func executableInPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

/// Slurm could not take a batch script: sbatch missing, or refusing it (its message included).
public struct SlurmError: InputError {
    public let description: String

    public init(_ description: String) { self.description = description }
}
