import Foundation

/// Renews a claim's lease from a thread of its own while the worker runs the unit, every quarter
/// of the lease, so that a live worker keeps its unit however long the unit takes, and a dead
/// one's lease runs out. A renewal that fails (the store unreachable for longer than its retries)
/// is tried again at the next beat; a claim found taken over is noted in `lost`.
final class LeaseKeeper: @unchecked Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var wasLost = false

    init(store: ResultStore, claim: UnitClaim, lease: Double) {
        let thread = Thread { [self] in
            while stopped.wait(timeout: .now() + lease / 4) == .timedOut {
                if (try? store.renew(claim, lease: lease)) == false {
                    lock.withLock { wasLost = true }
                }
            }
            finished.signal()
        }
        thread.name = "bip-lease"
        thread.start()
    }

    /// Whether another worker has taken the unit over.
    var lost: Bool { lock.withLock { wasLost } }

    /// Stops renewing; returns once the thread has stopped.
    func stop() {
        stopped.signal()
        finished.wait()
    }
}
