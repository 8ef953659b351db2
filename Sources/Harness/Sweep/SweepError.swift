import Runtime

/// A sweep that cannot be planned, resumed or run as asked, naming what (a file, or `sweep`).
public struct SweepError: InputError, Equatable {
    public let file: String
    public let problem: String

    public init(_ file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
