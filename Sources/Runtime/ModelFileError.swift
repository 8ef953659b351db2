/// A problem with a model or tokenizer file: names the file and says what is wrong with it.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    /// The path of the file (or directory) at fault.
    public let file: String
    /// What is wrong, in a sentence a user can act on.
    public let problem: String

    public init(_ file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
