import Harness

/// A sweep configuration (`bip sweep --config`), read, checked and planned.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSweepConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.write(FuzzInput.bytes(data, size), as: "sweep.json")
    FuzzInput.expectClearError(naming: url.path) {
        let config = try SweepConfig.load(url.path)
        for spec in config.jobs { _ = config.tasks(of: spec) }
    }
    return 0
}
