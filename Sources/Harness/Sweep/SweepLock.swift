import Foundation
import Runtime

/// An exclusive lock on one sweep of one database, held while the sweep runs, so that a second
/// process asked to run the same sweep stops instead of repeating it: beside a SQLite file, a
/// flock on `DB.sweep-NAME.lock`; on PostgreSQL, a session advisory lock (`ResultStore.lockSweep`).
final class SweepLock {
    private var unlock: (() -> Void)?

    init(unlock: @escaping () -> Void) { self.unlock = unlock }

    /// The flock of sweep `sweep` of the SQLite file `db`.
    convenience init(db: String, sweep: String) throws {
        let safe = String(sweep.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let path = "\(db).sweep-\(safe).lock"
        let descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw FileError(path, "cannot create the sweep's lock file: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw FileError(db, "sweep '\(sweep)' is being run by another process right now (lock \(path)); wait for it or stop it first")
        }
        self.init {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    func release() {
        unlock?()
        unlock = nil
    }
}
