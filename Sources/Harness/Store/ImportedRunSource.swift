/// Where an imported evaluation run came from: the results file read, the model it names and
/// the tool that wrote it. Stored with the run (`EvalRun.source`); reports label the run with it.
public struct ImportedRunSource: Codable, Equatable, Sendable {
    /// The results file imported, as given on the command line.
    public var file: String
    /// The model as the file names it (`pretrained=` of the harness's model arguments, or bip's model path).
    public var model: String
    /// The tool and version that wrote the file: `lm-evaluation-harness 0.4.9`, `bip 0.1.0`, or
    /// `lm-evaluation-harness (version not recorded)`.
    public var harness: String

    public init(file: String, model: String, harness: String) {
        (self.file, self.model, self.harness) = (file, model, harness)
    }

    /// One line naming the run: `MODEL (HARNESS, FILE)`.
    public var label: String { "\(model) (\(harness), \(file))" }
}
