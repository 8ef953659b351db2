import Runtime

/// A SentencePiece BPE tokenizer (LLaMA's, from `$BIP_FUZZ_SENTENCEPIECE_GGUF`) on arbitrary text.
let sentencePiece = TokenizerRoundTrip.tokenizer(from: "BIP_FUZZ_SENTENCEPIECE_GGUF")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSentencePiece(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    TokenizerRoundTrip.check(sentencePiece, data, size)
    return 0
}

/// Loads the tokenizer before the first input, outside the per-input time limit.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer, _ argv: UnsafeMutableRawPointer) -> CInt {
    _ = sentencePiece
    return 0
}
