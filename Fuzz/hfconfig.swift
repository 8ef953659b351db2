import Runtime

/// A Hugging Face `config.json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHFConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.write(FuzzInput.bytes(data, size), as: "config.json")
    FuzzInput.expectClearError(naming: url.path) { _ = try HFConfig.read(from: url) }
    return 0
}
