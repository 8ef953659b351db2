import Foundation

/// Progress of long work as text lines: items done of total, rate and ETA, at most every
/// `interval` seconds (and always at the end). The caller decides where the lines go (stderr).
public final class ProgressMeter {
    private let label: String
    private let unit: String
    private let interval: Double
    private let started = Date()
    private var lastReported = Date.distantPast

    public init(_ label: String, unit: String, interval: Double = 2) {
        self.label = label
        self.unit = unit
        self.interval = interval
    }

    /// Passes a progress line to `report` when one is due.
    public func update(_ done: Int, _ total: Int, report: (String) -> Void) {
        let now = Date()
        guard done == total || now.timeIntervalSince(lastReported) >= interval else { return }
        lastReported = now
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        report(String(format: "%@: %d/%d %@, %.1f %@/s, ETA %@", label, done, total, unit, rate, unit, Self.duration(eta)))
    }

    /// `42s`, `3m05s`, `1h07m`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
