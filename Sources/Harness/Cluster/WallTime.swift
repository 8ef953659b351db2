/// A length of wall-clock time, as Slurm's `--time` and `bip worker --max-time` take it: bip's
/// `3h50m` (any of d, h, m, s in that order), or Slurm's `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
public struct WallTime: Equatable, Sendable, CustomStringConvertible {
    public let seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    /// nil when `text` is neither form, or is no time at all.
    public init?(_ text: String) {
        guard let seconds = Self.units(text) ?? Self.slurm(text), seconds > 0 else { return nil }
        self.seconds = seconds
    }

    /// `3h50m`, `1d2h`, `90s` → seconds.
    private static func units(_ text: String) -> Int? {
        var rest = Substring(text), total = 0, matched = false
        for (unit, scale) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let value = Int(digits), rest.dropFirst(digits.count).first == Character(unit) else { continue }
            total += value * scale
            rest = rest.dropFirst(digits.count + 1)
            matched = true
        }
        return matched && rest.isEmpty ? total : nil
    }

    /// Slurm's `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S` → seconds.
    private static func slurm(_ text: String) -> Int? {
        func numbers(_ part: Substring) -> [Int]? {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
            return fields.compactMap { Int($0) }
        }
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        switch halves.count {
        case 1:
            guard let n = numbers(halves[0]) else { return nil }
            switch n.count {
            case 1: return n[0] * 60
            case 2: return n[0] * 60 + n[1]
            case 3: return n[0] * 3600 + n[1] * 60 + n[2]
            default: return nil
            }
        case 2:
            guard let days = numbers(halves[0]), days.count == 1, let n = numbers(halves[1]), (1...3).contains(n.count) else { return nil }
            let hms = n + Array(repeating: 0, count: 3 - n.count)
            return days[0] * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        default:
            return nil
        }
    }

    /// Slurm's form: `HH:MM:SS`, or `D-HH:MM:SS` from a day on.
    public var slurm: String {
        let days = seconds / 86400, clock = String(format: "%02d:%02d:%02d", seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60)
        return days > 0 ? "\(days)-\(clock)" : clock
    }

    /// bip's form: `3h50m`, `1d2h`, `45s`.
    public var description: String {
        let parts = [(seconds / 86400, "d"), (seconds % 86400 / 3600, "h"), (seconds % 3600 / 60, "m"), (seconds % 60, "s")]
        let text = parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined()
        return text.isEmpty ? "0s" : text
    }

    /// What a worker of a job with this time limit may spend on units: the limit less a margin for
    /// the last write and the exit (10 minutes, or a tenth of the limit when that is less).
    public var workerBudget: WallTime { WallTime(seconds: seconds - min(600, seconds / 10)) }
}
