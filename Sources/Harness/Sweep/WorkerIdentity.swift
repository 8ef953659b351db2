import Foundation

/// Who claims a unit: a name for people (the Slurm array task, `slurm 1234_2`, or `pid N`), the
/// host, and the process id, by which a worker on the same host tells a dead worker's claim
/// from a live one without waiting for its lease to run out.
public struct WorkerIdentity: Sendable, Equatable {
    public let name: String
    public let host: String
    public let pid: Int

    public init(name: String, host: String, pid: Int) {
        self.name = name
        self.host = host
        self.pid = pid
    }

    /// This process: named for its Slurm job (array task) when it runs in one.
    public static var current: WorkerIdentity {
        let environment = ProcessInfo.processInfo.environment
        let pid = Int(getpid())
        let name: String
        if let array = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
            name = "slurm \(array)_\(task)"
        } else if let job = environment["SLURM_JOB_ID"] {
            name = "slurm \(job)"
        } else {
            name = "pid \(pid)"
        }
        return WorkerIdentity(name: name, host: ProcessInfo.processInfo.hostName, pid: pid)
    }

    /// Whether process `pid` of this host has ended (a claim it holds can be taken at once).
    static func hasEnded(_ pid: Int) -> Bool {
        guard pid > 0, pid != Int(getpid()) else { return false }
        return kill(pid_t(pid), 0) != 0 && errno == ESRCH
    }
}
