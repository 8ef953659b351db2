import Foundation

/// Seconds per phase of a run, each phase ending where the next begins.
struct PhaseClock {
    private(set) var seconds: [(phase: String, seconds: Double)] = []
    private var start = Date()

    /// Ends `phase` now.
    mutating func lap(_ phase: String) {
        seconds.append((phase, Date().timeIntervalSince(start)))
        start = Date()
    }
}
