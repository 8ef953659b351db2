import Runtime

/// GGUF: header, metadata and tensor table, then every accepted tensor dequantized, the model
/// built from it and its tokenizer made and used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.write(FuzzInput.bytes(data, size), as: "model.gguf")
    var file: GGUFFile?
    FuzzInput.expectClearError(naming: url.path) { file = try GGUFFile(path: url.path) }
    guard let gguf = file else { return 0 }
    for info in gguf.tensors {
        FuzzInput.expectClearError(naming: url.path) { _ = try gguf.floats(info) }
    }
    FuzzInput.expectClearError(naming: url.path) { _ = try GGUFModelLoader.load(gguf) }
    FuzzInput.expectClearError(naming: url.path) {
        let tokenizer = try TokenizerLoader.load(gguf: gguf)
        _ = tokenizer.decode(tokenizer.encode("Hello, world! <|im_start|> <s> 12345 ü", parseSpecial: true))
    }
    return 0
}
