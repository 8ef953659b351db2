import ArgumentParser
import Foundation
import Harness
import Runtime
import Tasks

/// `bip sweep --slurm`: the sweep, planned in the store, is run by a Slurm job array of
/// `bip worker`s instead of by this process.
struct SlurmOptions: ParsableArguments {
    @Flag(help: "Plan the sweep, then submit a Slurm job array of --workers `bip worker`s to run it (the batch script goes beside the report).")
    var slurm = false
    @Option(help: "Tasks of the job array (workers) for --slurm.") var workers: Int?
    @Option(help: "Slurm partition of the workers.") var partition: String?
    @Option(help: "Time limit of each worker: 4h, 3h50m, or Slurm's D-HH:MM:SS, HH:MM:SS, minutes.", transform: {
        guard let time = WallTime($0) else { throw ValidationError("--time \($0): not a time (4h, 3h50m, 1-12:00:00, 90)") }
        return time
    })
    var time: WallTime?
    @Option(name: .customLong("cpus-per-task"), help: "CPUs (and BLAS threads) of each worker.") var cpusPerTask: Int?
    @Option(help: "Memory of each worker, as sbatch takes it (16G).") var mem: String?
    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue, help: "One more #SBATCH option of the batch script (repeatable), e.g. --sbatch-arg=--account=abc.")
    var sbatchArguments: [String] = []
    @Flag(name: .customLong("dry-run"), help: "With --slurm: print the batch script instead of submitting it.") var dryRun = false

    func validate() throws {
        let given = workers != nil || partition != nil || time != nil || cpusPerTask != nil || mem != nil || !sbatchArguments.isEmpty || dryRun
        if !slurm && given {
            throw ValidationError("--workers, --partition, --time, --cpus-per-task, --mem, --sbatch-arg and --dry-run go with --slurm")
        }
        if slurm {
            guard let workers, workers > 0 else { throw ValidationError("--slurm needs --workers N (N > 0)") }
            if let cpusPerTask, cpusPerTask <= 0 { throw ValidationError("--cpus-per-task must be positive") }
        }
    }

    /// Writes the batch script of `session`'s workers to `reportDirectory` and submits it (or, with
    /// --dry-run, prints it).
    func submit(_ session: SweepSession, reportDirectory: String, data: String?) throws {
        let store = session.db.contains("://") ? session.db : URL(fileURLWithPath: session.db).standardizedFileURL.path
        if !store.contains("://") {
            Console.status("note: \(store) is a SQLite file: every node must see it on a shared file system; a PostgreSQL URL (--db postgres://…) suits a cluster")
        }
        let directory = URL(fileURLWithPath: reportDirectory).standardizedFileURL
        let environment = ProcessInfo.processInfo.environment
        let batch = SlurmBatch(sweep: session.record.name, db: store, workers: workers ?? 1,
                               executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                               logDirectory: directory.path, partition: partition, time: time, cpusPerTask: cpusPerTask, memory: mem,
                               sbatchArguments: sbatchArguments, home: environment["BIP_HOME"], data: DataDirectory.resolve(data).url.path)
        if dryRun {
            print(batch.script, terminator: "")
            return
        }
        let script = directory.appendingPathComponent(batch.scriptName)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(batch.script.utf8).write(to: script)
        } catch {
            throw FileError(script.path, "cannot write the batch script: \(error.localizedDescription)")
        }
        let job = try SlurmBatch.submit(script)
        Console.status("sweep \(batch.sweep): \(script.path) submitted, \(batch.workers) workers; Slurm job id:")
        print(job)
    }
}
