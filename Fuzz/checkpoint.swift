import Foundation
import Gradients

/// A tune checkpoint (`bip tune --resume`): the input up to its first zero byte is
/// `checkpoint.json`, the rest `values.bin` (the name the seeds' JSON gives its values).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    let json = bytes.prefix { $0 != 0 }
    let values = bytes.dropFirst(json.count + 1)
    let directory = FuzzInput.directory.appendingPathComponent("checkpoint")
    FuzzInput.write(json, as: "checkpoint/" + TuningCheckpoint.metadataFile)
    FuzzInput.write(values, as: "checkpoint/values.bin")
    FuzzInput.expectClearError(naming: directory.path) {
        _ = try TuningCheckpoint.read(from: directory, options: TuningOptions())
    }
    return 0
}
