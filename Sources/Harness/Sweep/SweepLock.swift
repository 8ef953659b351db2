import Foundation
import Runtime

/// An exclusive lock on one sweep of one database (`DB.sweep-NAME.lock`, flock), held while the
/// sweep runs, so that a second process asked to run the same sweep stops instead of repeating it.
final class SweepLock {
    private var descriptor: Int32

    init(db: String, sweep: String) throws {
        let safe = String(sweep.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let path = "\(db).sweep-\(safe).lock"
        descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw FileError(path, "cannot create the sweep's lock file: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw FileError(db, "sweep '\(sweep)' is being run by another process right now (lock \(path)); wait for it or stop it first")
        }
    }

    func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
