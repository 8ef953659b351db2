import Runtime

/// How a (context, continuation) pair becomes token ids: the two lm-evaluation-harness versions
/// that published numbers were made with.
public enum EvalProtocol: String, Codable, CaseIterable, Sendable {
    /// The lm-eval commit LLM-Pruner used: context and continuation tokenized separately and
    /// concatenated, no BOS; an empty context becomes the EOS token.
    case llmPruner = "llm-pruner"
    /// Current lm-eval: trailing whitespace of the context moves to the continuation;
    /// continuation = tok(context + continuation) minus the tok(context) prefix; BOS (if the
    /// tokenizer adds one by default, else EOS when the context is empty) before the context.
    case lmEval = "lm-eval"
}

/// The token ids of one choice: the context, and the continuation whose loglikelihood is scored.
public struct ZeroShotRequest: Equatable, Sendable {
    public var contextTokens: [Int]
    public var continuationTokens: [Int]

    public init(contextTokens: [Int], continuationTokens: [Int]) {
        self.contextTokens = contextTokens
        self.continuationTokens = continuationTokens
    }

    /// All tokens, context then continuation.
    public var tokens: [Int] { contextTokens + continuationTokens }
}

extension EvalProtocol {
    /// The request for one context / continuation pair. Throws a `DataError` (with `file` set to
    /// `"request"`) if the continuation comes out empty or no context token can be formed.
    public func request(context: String, continuation: String, tokenizer: any Tokenizer) throws -> ZeroShotRequest {
        switch self {
        case .llmPruner:
            let contextTokens = context.isEmpty ? [try Self.eos(tokenizer)] : tokenizer.encode(context, parseSpecial: false)
            return try Self.checked(ZeroShotRequest(contextTokens: contextTokens,
                                                    continuationTokens: tokenizer.encode(continuation, parseSpecial: false)))
        case .lmEval:
            let context_ = PythonString.rstrip(context)
            let moved = String(context.unicodeScalars.dropFirst(context_.unicodeScalars.count))
            let continuation_ = moved + continuation
            let bos = tokenizer.addsBOS ? tokenizer.bosID : nil
            if context_.isEmpty {
                let prefix = try bos ?? Self.eos(tokenizer)
                return try Self.checked(ZeroShotRequest(contextTokens: [prefix],
                                                        continuationTokens: tokenizer.encode(continuation_, parseSpecial: false)))
            }
            let whole = tokenizer.encode(context_ + continuation_, parseSpecial: false)
            let contextTokens = tokenizer.encode(context_, parseSpecial: false)
            let continuationTokens = Array(whole.dropFirst(contextTokens.count))
            return try Self.checked(ZeroShotRequest(contextTokens: (bos.map { [$0] } ?? []) + contextTokens,
                                                    continuationTokens: continuationTokens))
        }
    }

    /// One request per choice of `document`, each left-truncated to its last `maxTokens` tokens
    /// (context + continuation; the continuation is always kept whole). lm-eval keeps
    /// `modelMaxLength + 1` tokens, since the last token is only a target, never an input.
    /// Errors name the task's file, the document's line and the choice.
    public func requests(for document: ZeroShotDocument, of task: ZeroShotTask, tokenizer: any Tokenizer,
                         maxTokens: Int? = nil) throws -> [ZeroShotRequest] {
        try (0..<document.choiceCount).map { choice in
            do {
                var request = try self.request(context: document.context(choice), continuation: document.continuation(choice),
                                               tokenizer: tokenizer)
                if let maxTokens, request.contextTokens.count + request.continuationTokens.count > maxTokens {
                    let room = maxTokens - request.continuationTokens.count
                    guard room >= 1 else {
                        throw DataError(file: "request", problem: "continuation of \(request.continuationTokens.count) tokens leaves no room for context in \(maxTokens) tokens")
                    }
                    request.contextTokens = Array(request.contextTokens.suffix(room))
                }
                return request
            } catch let error as DataError {
                throw DataError(file: task.file, line: document.index + 1, field: "choice \(choice)",
                                problem: "\(task.name) under \(rawValue): \(error.problem)")
            }
        }
    }

    private static func eos(_ tokenizer: any Tokenizer) throws -> Int {
        guard let eos = tokenizer.eosID else { throw DataError(file: "request", problem: "empty context and no EOS token") }
        return eos
    }

    private static func checked(_ request: ZeroShotRequest) throws -> ZeroShotRequest {
        guard !request.continuationTokens.isEmpty else { throw DataError(file: "request", problem: "empty continuation") }
        return request
    }
}
