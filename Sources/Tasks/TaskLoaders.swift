/// The per-task readers that `TaskCatalog` entries name: a perplexity corpus's files to its joined
/// text, and a zero-shot task's records to `ZeroShotDocument`s following the table in
/// docs/evaluation-protocol.md, "The seven tasks" (lm-evaluation-harness's prompts). Each takes the
/// entry's `files`.
enum TaskLoaders {
    /// WikiText-2: the `text` field of every row (blank rows included) joined with "\n\n".
    @Sendable static func wikitext2(_ files: [String], _ directory: DataDirectory) throws -> String {
        try DataFile.jsonLines(files[0], in: directory).map { try $0.string("text") }.joined(separator: "\n\n")
    }

    /// PTB: every line stripped (Python `strip`) and joined with "\n\n".
    @Sendable static func ptb(_ files: [String], _ directory: DataDirectory) throws -> String {
        try DataFile.lines(files[0], in: directory).map(PythonString.strip).joined(separator: "\n\n")
    }

    /// `{passage}\nQuestion: {question}?\nAnswer:` -> " no" / " yes"; label "true" is yes.
    @Sendable static func boolq(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try DataFile.jsonLines(files[0], in: directory).enumerated().map { i, record in
            let label = try record.string("label")
            guard label == "true" || label == "false" else {
                throw record.error("label", "expected \"true\" or \"false\", got \"\(label)\"")
            }
            return ZeroShotDocument(
                index: i,
                contexts: ["\(try record.string("passage"))\nQuestion: \(try record.string("question"))?\nAnswer:"],
                continuations: [" no", " yes"], gold: label == "true" ? 1 : 0, choiceTexts: ["no", "yes"])
        }
    }

    /// `Question: {goal}\nAnswer:` -> " "+sol1 / " "+sol2; gold from the aligned label file.
    @Sendable static func piqa(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        let (file, labelFile) = (files[0], files[1])
        let records = try DataFile.jsonLines(file, in: directory)
        let labels = try DataFile.lines(labelFile, in: directory)
        guard labels.count == records.count else {
            throw DataError(file: labelFile, problem: "\(labels.count) labels, expected \(records.count) (one per line of \(file))")
        }
        return try records.enumerated().map { i, record in
            let label = PythonString.strip(labels[i])
            guard label == "0" || label == "1" else {
                throw DataError(file: labelFile, line: i + 1, field: "label", problem: "expected 0 or 1, got \"\(label)\"")
            }
            let solutions = [try record.string("sol1"), try record.string("sol2")]
            return ZeroShotDocument(index: i, contexts: ["Question: \(try record.string("goal"))\nAnswer:"],
                                    continuations: solutions.map { " " + $0 }, gold: Int(label)!, choiceTexts: solutions)
        }
    }

    /// `preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b))` -> " "+preprocess(ending) x4.
    @Sendable static func hellaswag(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try DataFile.jsonLines(files[0], in: directory).enumerated().map { i, record in
            let context = try record.string("activity_label") + ": " + record.string("ctx_a") + " "
                + PythonString.capitalize(record.string("ctx_b"))
            let endings = try record.strings("endings").map(HellaSwag.preprocess)
            guard endings.count == 4 else { throw record.error("endings", "\(endings.count) endings, expected 4") }
            let gold = try record.int("label")
            guard endings.indices.contains(gold) else { throw record.error("label", "\(gold) out of range 0..<4") }
            return ZeroShotDocument(index: i, contexts: [HellaSwag.preprocess(context)],
                                    continuations: endings.map { " " + $0 }, gold: gold, choiceTexts: endings)
        }
    }

    /// Per option: `sentence[..<"_"] + option`; shared continuation `" " + strip(sentence[after "_"...])`.
    @Sendable static func winogrande(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try DataFile.jsonLines(files[0], in: directory).enumerated().map { i, record in
            let sentence = Array(try record.string("sentence").unicodeScalars)
            guard let blank = sentence.firstIndex(of: "_") else { throw record.error("sentence", "no \"_\"") }
            let options = [try record.string("option1"), try record.string("option2")]
            let answer = try record.string("answer")
            guard answer == "1" || answer == "2" else { throw record.error("answer", "expected \"1\" or \"2\", got \"\(answer)\"") }
            let prefix = PythonString.string(sentence[..<blank])
            let suffix = PythonString.strip(PythonString.string(sentence[(blank + 1)...]))
            return ZeroShotDocument(index: i, contexts: options.map { prefix + $0 }, continuations: [" " + suffix],
                                    gold: Int(answer)! - 1, choiceTexts: options)
        }
    }

    /// ARC (Easy or Challenge): `Question: {stem}\nAnswer:` -> " "+choice text.
    @Sendable static func arc(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try multipleChoice(files[0], questionPrefix: true, directory)
    }

    /// OpenBookQA: the stem alone -> " "+choice text.
    @Sendable static func openbookqa(_ files: [String], _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try multipleChoice(files[0], questionPrefix: false, directory)
    }

    /// ARC and OpenBookQA layout: `question{stem, choices[{text,label}]}, answerKey`. Context is
    /// `Question: {stem}\nAnswer:` (ARC) or the stem alone (OpenBookQA); gold is the index of
    /// `answerKey` among the choice labels.
    private static func multipleChoice(_ file: String, questionPrefix: Bool, _ directory: DataDirectory) throws -> [ZeroShotDocument] {
        try DataFile.jsonLines(file, in: directory).enumerated().map { i, record in
            let question = try record.record("question")
            let stem = try question.string("stem")
            let choices = try question.records("choices")
            guard (2...5).contains(choices.count) else {
                throw question.error("choices", "\(choices.count) choices, expected 2 to 5")
            }
            let texts = try choices.map { try $0.string("text") }
            let labels = try choices.map { try $0.string("label") }
            let key = try record.string("answerKey")
            guard let gold = labels.firstIndex(of: key) else {
                throw record.error("answerKey", "\"\(key)\" is not among the labels \(labels)")
            }
            return ZeroShotDocument(index: i, contexts: [questionPrefix ? "Question: \(stem)\nAnswer:" : stem],
                                    continuations: texts.map { " " + $0 }, gold: gold, choiceTexts: texts)
        }
    }
}
