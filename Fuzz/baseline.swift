import Harness

/// A gate baseline (`bip gate --baseline`), read and compared with itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBaseline(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.write(FuzzInput.bytes(data, size), as: "baseline.json")
    FuzzInput.expectClearError(naming: url.path) {
        let baseline = try Baseline.load(url.path)
        _ = RegressionGate().compare(baseline, with: baseline.entries)
    }
    return 0
}
