import Foundation

/// Progress of long work on stderr: items done of total, rate and ETA, at most every 2 seconds.
final class ProgressLine {
    private let label: String
    private let unit: String
    private let started = Date()
    private var lastPrinted = Date.distantPast

    init(_ label: String, unit: String) {
        self.label = label
        self.unit = unit
    }

    func update(_ done: Int, _ total: Int) {
        let now = Date()
        guard done == total || now.timeIntervalSince(lastPrinted) >= 2 else { return }
        lastPrinted = now
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        Console.status(String(format: "%@: %d/%d %@, %.1f %@/s, ETA %@", label, done, total, unit, rate, unit,
                              Self.duration(eta)))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
