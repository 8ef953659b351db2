import Foundation

/// Renews a claim's lease from a thread of its own while the worker runs the unit, every quarter
/// of the lease, so that a live worker keeps its unit however long the unit takes, and a dead
/// one's lease runs out. A renewal that fails (the store unreachable for longer than its retries)
/// is tried again at the next beat. A claim another worker took over is not renewed; the worker
/// learns so when it stores the unit's result, which the store then refuses (the claim's token).
final class LeaseKeeper: @unchecked Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(store: ResultStore, claim: UnitClaim, lease: Double) {
        let thread = Thread { [self] in
            while stopped.wait(timeout: .now() + lease / 4) == .timedOut {
                _ = try? store.renew(claim, lease: lease)
            }
            finished.signal()
        }
        thread.name = "bip-lease"
        thread.start()
    }

    /// Stops renewing; returns once the thread has stopped.
    func stop() {
        stopped.signal()
        finished.wait()
    }
}
