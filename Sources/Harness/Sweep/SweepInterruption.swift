import Foundation

/// Ctrl-C (or SIGTERM, what Slurm sends on scancel and at a time limit) during a sweep: wait for
/// the write under way, hand the unit being run back (an interruption is not counted as an
/// attempt the process died in), say how to continue, exit with 128 + the signal's number (130,
/// 143). Everything stored stays stored; the unit being run is lost and run again.
///
/// The signals are caught by a plain `sigaction` handler that only writes the signal's number to
/// a pipe; a thread of its own reads the pipe and does the rest. (A `DispatchSource` signal source
/// lost them on Linux: its signalfd sees a signal only while every thread blocks it, but the main
/// thread, parked by the async `main` in `dispatch_main`'s sigsuspend, blocks nothing and took it;
/// libdispatch's handler re-raised it to the thread that had registered the source, where it stayed
/// pending, never read.) SIGINT and SIGTERM are caught even when the process started with them
/// ignored, as a background job of a shell starts.
public final class SweepInterruption: @unchecked Sendable {
    let db: String
    /// The command that continues the work, for the message.
    let resume: String
    let report: @Sendable (String) -> Void
    let store: ResultStore
    /// The `bip bench` child running now (0: none); it is killed too, having nothing to save.
    nonisolated(unsafe) static var child: Int32 = 0
    /// The token of the claim the worker holds now, handed back on interruption.
    nonisolated(unsafe) static var claimToken: String?
    /// Guards `claimToken`.
    static let claimLock = NSLock()
    /// The interruption a signal carries out: the one installed last.
    nonisolated(unsafe) private static var current: SweepInterruption?
    private static let currentLock = NSLock()
    /// The pipe's end the signal handler writes to (-1 until the handler is installed).
    nonisolated(unsafe) private static var signalPipe: Int32 = -1
    private static let signals = [SIGINT, SIGTERM]

    public init(db: String, resume: String, store: ResultStore, report: @escaping @Sendable (String) -> Void) {
        self.db = db
        self.resume = resume
        self.store = store
        self.report = report
    }

    /// Makes SIGINT and SIGTERM interrupt this sweep from now on.
    public func install() throws {
        Self.currentLock.withLock { Self.current = self }
        if let error = Self.handlerFailure { throw error }
    }

    /// Notes the claim the worker holds from now on (nil: none).
    static func holding(_ token: String?) { claimLock.withLock { claimToken = token } }

    /// Carries out the interruption by `signalNumber`; does not return.
    private func interrupt(_ signalNumber: Int32) -> Never {
        // The lock first: nothing is written after the child is gone.
        ResultStore.writeLock.lock()
        if Self.child > 0 { kill(Self.child, SIGKILL) }
        if let token = Self.claimLock.withLock({ Self.claimToken }) { store.releaseInterruptedClaim(token: token) }
        report("\ninterrupted: every finished task is stored in \(db); continue with: \(resume)")
        // Without exit handlers: the other threads are still computing, and tearing the libraries
        // down under them (OpenBLAS's buffers) can end the process in SIGSEGV instead.
        fflush(nil)
        _exit(128 + signalNumber)
    }

    /// Once per process: the pipe, the thread that reads it, and the handler that writes to it
    /// (nil), or why there are none.
    private static let handlerFailure: POSIXError? = {
        let ready = DispatchSemaphore(value: 0)
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        // A full pipe (signals arriving faster than they are read) must not block the handler.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        signalPipe = ends[1]
        let readEnd = ends[0]
        let watcher = Thread {
            // Threads started by libdispatch block these signals; this one takes them whatever
            // the others do, so that some thread always can.
            var mask = sigset_t()
            sigemptyset(&mask)
            for signalNumber in signals { sigaddset(&mask, signalNumber) }
            pthread_sigmask(SIG_UNBLOCK, &mask, nil)
            let handler: @convention(c) (Int32) -> Void = { signalNumber in
                var byte = UInt8(truncatingIfNeeded: signalNumber)
                _ = write(SweepInterruption.signalPipe, &byte, 1)
            }
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = handler
            #else
            action.__sigaction_u.__sa_handler = handler
            #endif
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            // Replaces SIG_IGN too: a shell starts background jobs with SIGINT ignored.
            for signalNumber in signals { sigaction(signalNumber, &action, nil) }
            ready.signal()
            var byte: UInt8 = 0
            var count: Int
            repeat { count = read(readEnd, &byte, 1) } while count < 0 && errno == EINTR
            guard count == 1 else { return }
            currentLock.withLock { current }?.interrupt(Int32(byte))
        }
        watcher.name = "bip-signals"
        watcher.start()
        ready.wait()
        return nil
    }()
}
