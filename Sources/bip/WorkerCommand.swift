import ArgumentParser
import Foundation
import Harness
import Runtime
import Tasks

/// `bip worker`: one worker of sweeps planned in a shared results database (by `bip sweep`, e.g.
/// with `--slurm`): claims their units one at a time and runs them until none is left or its
/// time is nearly up. Start as many as there are machines (or CPU pairs); they share the work.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run units of the sweeps stored in a results database (PostgreSQL for many machines) until none is left.",
        discussion: """
            While the units left are claimed by other workers it waits, and takes a unit over when its claim's lease \
            runs out (a worker killed, a node lost). SIGTERM (Slurm's scancel and time limit) hands the current unit \
            back and exits.
            """)
    @Option(help: "Only this sweep (default: every sweep of the database with units left).") var sweep: String?
    @Option(name: .customLong("max-time"), help: "Start no unit that would likely not end within this time (4h, 3h50m, 1-12:00:00, minutes).",
            transform: {
                guard let time = WallTime($0) else { throw ValidationError("--max-time \($0): not a time (4h, 3h50m, 1-12:00:00, 90)") }
                return time
            })
    var maxTime: WallTime?
    @Option(help: "Seconds a claim holds unless renewed (renewed every quarter of it while the unit runs); another worker takes a unit over when it runs out.")
    var lease: Double = 300
    @Option(help: "Data directory (default $BIP_DATA, else datasets/cache).") var data: String?
    @OptionGroup var database: DatabaseOption

    func validate() throws {
        guard lease >= 4 else { throw ValidationError("--lease must be at least 4 seconds") }
    }

    func run() throws {
        try reportingErrors {
            let store = try ResultStore.existing(path: database.path)
            let records: [SweepRecord]
            if let sweep {
                guard let record = try store.sweep(named: sweep) else {
                    throw FileError(store.path, "no sweep named '\(sweep)' (stored: \(try store.sweeps().map(\.name).joined(separator: ", ")))")
                }
                records = [record]
            } else {
                records = try store.sweeps().filter { try store.unfinishedUnits(sweepID: $0.id!) > 0 }
            }
            let started = Date()
            let identity = WorkerIdentity.current
            let resume = "bip worker --db \(store.path)" + (sweep.map { " --sweep \($0)" } ?? "")
            try SweepInterruption(db: store.path, resume: resume, store: store, report: Console.status).install()
            let directory = DataDirectory.resolve(data)
            let worker = SweepWorker(store: store, targets: try records.map { try SweepWorker.Target($0, in: store) }, data: directory,
                                     identity: identity, lease: lease, probe: BenchProbe.childProcess(data: directory),
                                     deadline: maxTime.map { started.addingTimeInterval(Double($0.seconds)) }, progress: Console.status)
            let summary = try worker.run()
            print(String(format: "worker %@ on %@: %d tasks stored in %@; sweeps %@: %d jobs done, %d failed%@", identity.name, identity.host,
                         summary.tasksRun, ProgressMeter.duration(Date().timeIntervalSince(started)),
                         records.map(\.name).joined(separator: ", "), summary.done, summary.failed,
                         summary.outOfTime ? "; stopped before its time ran out, units are left" : ""))
        }
    }
}
