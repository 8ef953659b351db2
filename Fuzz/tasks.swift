import Foundation
import Tasks

/// The task data loaders: the first byte picks a task of `TaskCatalog`, the rest is its data
/// file (for a task with two files, such as PIQA's records and labels, split at the first zero
/// byte), read the way `bip eval` reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTasks(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    guard let selector = bytes.first else { return 0 }
    let spec = TaskCatalog.all[Int(selector) % TaskCatalog.all.count]
    let rest = bytes.dropFirst()
    let parts = rest.split(separator: 0, maxSplits: spec.files.count - 1, omittingEmptySubsequences: false)
    for (i, file) in spec.files.enumerated() {
        FuzzInput.write(i < parts.count ? Array(parts[i]) : [], as: "data/" + file)
    }
    let directory = DataDirectory(url: FuzzInput.directory.appendingPathComponent("data"))
    do {
        switch spec.kind {
        case .perplexity(let join): _ = try join(spec.files, directory)
        case .zeroShot(let build, _, _, _): _ = try build(spec.files, directory)
        }
    } catch let error as DataError where spec.files.contains(error.file) {
    } catch {
        fatalError("\(spec.name): an error that names none of its files: \(error)")
    }
    return 0
}
