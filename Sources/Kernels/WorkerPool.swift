import Dispatch
import Foundation
import Synchronization

/// The threads `Parallel` hands work to: one per core beside the caller, kept for the whole
/// process. Between pieces of work each keeps polling (yielding its core to anything else that
/// wants it) for `pollNanoseconds`, then sleeps. A forward pass hands out work every few hundred
/// microseconds, and waking a sleeping thread on these virtual machines costs about 40 µs (Dispatch's
/// `concurrentPerform` on two 160 µs halves takes 203 µs; this pool 165 µs), as much as a small
/// product takes.
///
/// One piece of work ("region") runs at a time: a call made while another runs (from another
/// thread, or from inside a region's body) returns false, and the caller uses Dispatch instead.
/// Indices are taken one at a time from a shared counter, by the caller and the pool's threads
/// alike; which thread runs an index never changes what the index computes.
final class WorkerPool: @unchecked Sendable {
    /// The process's pool; nil on one core.
    static let shared: WorkerPool? = Parallel.cores > 1 ? WorkerPool(threads: Parallel.cores - 1) : nil

    /// How long an idle thread polls for the next region before it sleeps.
    static let pollNanoseconds: UInt64 = 1_000_000

    private let busy = Atomic<Bool>(false)      // a region runs
    private let generation = Atomic<Int>(0)     // counts the regions begun
    private let open = Atomic<Bool>(false)      // the current region still takes threads
    private let next = Atomic<Int>(0)           // the next index to take
    private let finished = Atomic<Int>(0)       // indices done
    private let inside = Atomic<Int>(0)         // pool threads that may be reading the region
    // The current region, written before `open` and `generation` publish it.
    private var count = 0
    private var nice: Int32 = 0
    private var body: ((Int) -> Void)?
    private let sleeping = NSCondition()
    private var sleepers = 0

    private init(threads: Int) {
        for _ in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "bip-worker"
            thread.start()
        }
    }

    /// Runs `body(i)` for every i in 0..<count on the caller and the pool's threads, each at
    /// `nice`, and returns true when all are done; returns false at once, running nothing, when
    /// another region holds the pool.
    func run(_ count: Int, nice: Int32, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            (self.count, self.nice, self.body) = (count, nice, body)
            // Index 0 is the caller's, so that the same core keeps taking the same part of the
            // work from one region to the next (its data stays in that core's cache).
            next.store(1, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            open.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            sleeping.withLock { if sleepers > 0 { sleeping.broadcast() } }
            Parallel.follow(nice)
            body(0)
            finished.add(1, ordering: .acquiringAndReleasing)
            take()
            while finished.load(ordering: .acquiring) < count { sched_yield() }
            // No thread joins once `open` is false; wait for any that looked before then.
            open.store(false, ordering: .sequentiallyConsistent)
            while inside.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Takes indices of the current region until none is left.
    private func take() {
        let count = self.count, body = self.body!
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
            finished.add(1, ordering: .acquiringAndReleasing)
        }
    }

    /// A pool thread: joins each region it sees begin while the region is still open.
    private func work() {
        var seen = generation.load(ordering: .sequentiallyConsistent)
        while true {
            seen = awaitRegion(after: seen)
            inside.add(1, ordering: .sequentiallyConsistent)
            if open.load(ordering: .sequentiallyConsistent), generation.load(ordering: .sequentiallyConsistent) == seen {
                Parallel.follow(nice)
                take()
            }
            inside.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// The generation of the next region begun after `seen`: polled, then slept for.
    private func awaitRegion(after seen: Int) -> Int {
        var since = DispatchTime.now().uptimeNanoseconds, polls = 0
        while true {
            let current = generation.load(ordering: .sequentiallyConsistent)
            if current != seen { return current }
            polls += 1
            if polls % 64 == 0, DispatchTime.now().uptimeNanoseconds - since > Self.pollNanoseconds {
                sleeping.withLock {
                    sleepers += 1
                    while generation.load(ordering: .sequentiallyConsistent) == seen { sleeping.wait() }
                    sleepers -= 1
                }
                since = DispatchTime.now().uptimeNanoseconds
            } else {
                sched_yield()
            }
        }
    }
}
