import Runtime

/// A `tokenizer.json` loaded, then the input itself encoded as text and decoded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    let url = FuzzInput.write(bytes, as: "tokenizer.json")
    FuzzInput.expectClearError(naming: url.path) {
        let tokenizer = try HFTokenizerJSON.load(path: url.path)
        let text = String(decoding: bytes, as: UTF8.self)
        _ = tokenizer.decode(tokenizer.encode(text, parseSpecial: true))
        _ = tokenizer.decode(tokenizer.encode(text, parseSpecial: false))
    }
    return 0
}
