import Runtime

/// A byte-level BPE tokenizer (SmolLM2's, from `$BIP_FUZZ_BYTELEVEL_GGUF`) on arbitrary text.
let byteLevel = TokenizerRoundTrip.tokenizer(from: "BIP_FUZZ_BYTELEVEL_GGUF")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzByteLevel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    TokenizerRoundTrip.check(byteLevel, data, size)
    return 0
}

/// Loads the tokenizer before the first input, outside the per-input time limit.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer, _ argv: UnsafeMutableRawPointer) -> CInt {
    _ = byteLevel
    return 0
}
