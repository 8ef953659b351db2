/// Every task `bip eval` knows, one `TaskSpec` each: the perplexity corpora first, then the
/// zero-shot tasks in the order of the paper tables. Adding a task is adding an entry here and
/// its reader in `TaskLoaders`.
public enum TaskCatalog {
    public static let all: [TaskSpec] = [
        TaskSpec(name: "wikitext2", title: "WikiText2", dataset: "wikitext2", files: ["wikitext2/wikitext-2-raw-v1.test.jsonl"],
                 kind: .perplexity(TaskLoaders.wikitext2)),
        TaskSpec(name: "ptb", title: "PTB", dataset: "ptb", files: ["ptb/ptb.valid.txt"],
                 kind: .perplexity(TaskLoaders.ptb)),
        TaskSpec(name: "boolq", title: "BoolQ", dataset: "boolq", files: ["boolq/val.jsonl"],
                 kind: .zeroShot(TaskLoaders.boolq, metrics: [.acc], paperMetric: .acc, choices: 2)),
        TaskSpec(name: "piqa", title: "PIQA", dataset: "piqa", files: ["piqa/valid.jsonl", "piqa/valid-labels.lst"],
                 kind: .zeroShot(TaskLoaders.piqa, metrics: [.acc, .accNorm], paperMetric: .acc, choices: 2)),
        TaskSpec(name: "hellaswag", title: "HellaSwag", dataset: "hellaswag", files: ["hellaswag/hellaswag_val.jsonl"],
                 kind: .zeroShot(TaskLoaders.hellaswag, metrics: [.acc, .accNorm], paperMetric: .accNorm, choices: 4)),
        TaskSpec(name: "winogrande", title: "WinoGrande", dataset: "winogrande", files: ["winogrande/winogrande_xl_validation.jsonl"],
                 kind: .zeroShot(TaskLoaders.winogrande, metrics: [.acc], paperMetric: .acc, choices: 2)),
        TaskSpec(name: "arc_easy", title: "ARC-e", dataset: "arc", files: ["arc/ARC-Easy-Test.jsonl"],
                 kind: .zeroShot(TaskLoaders.arc, metrics: [.acc, .accNorm], paperMetric: .acc, choices: 4)),
        TaskSpec(name: "arc_challenge", title: "ARC-c", dataset: "arc", files: ["arc/ARC-Challenge-Test.jsonl"],
                 kind: .zeroShot(TaskLoaders.arc, metrics: [.acc, .accNorm], paperMetric: .accNorm, choices: 4)),
        TaskSpec(name: "openbookqa", title: "OBQA", dataset: "openbookqa", files: ["openbookqa/test.jsonl"],
                 kind: .zeroShot(TaskLoaders.openbookqa, metrics: [.acc, .accNorm], paperMetric: .accNorm, choices: 4)),
    ]

    /// Every task name, in table order.
    public static let names = all.map(\.name)

    /// The task named `name`, if there is one.
    public static func spec(_ name: String) -> TaskSpec? { all.first { $0.name == name } }
}
