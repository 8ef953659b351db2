/// A problem with a file the user gave bip, or one bip keeps (a model or tokenizer file, a results
/// database, a sweep configuration, a gate baseline): names the file and says what is wrong with it.
public struct FileError: InputError, Equatable {
    /// The path of the file (or directory) at fault; `sweep` for a sweep's fields given on the
    /// command line.
    public let file: String
    /// What is wrong, in a sentence a user can act on.
    public let problem: String

    public init(_ file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
