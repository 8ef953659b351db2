import BIP
import Foundation
@testable import Harness
import Runtime
import TestSupport
import XCTest

/// The sweep's cache of pruned models on a full and on a read-only disk (a clear error, nothing
/// half-written under a model's name, the models stored before still loading), and with two
/// makers of the same model at once (both may make it, one rename wins, no reader ever sees a
/// half-written model).
final class PrunedModelCacheTests: XCTestCase {
    func outcome(sparsity: Double) throws -> PruningOutcome {
        try Pruner.prune(try TinyModel.loaded().model, PruningRequest(method: MagnitudeImportance(norm: .l1), sparsity: sparsity),
                         calibration: nil)
    }

    func recipe(_ sparsity: Double) -> PrunedModelCache.Recipe {
        PrunedModelCache.Recipe(sourceSHA256: "tiny", method: "magnitude-l1", sparsity: sparsity, seed: 0, calibration: "none")
    }

    func store(_ cache: PrunedModelCache, _ sparsity: Double) throws -> URL {
        try cache.store(try outcome(sparsity: sparsity), recipe: recipe(sparsity), calibration: nil, source: try TinyModel.loaded())
    }

    func testAFullDiskIsAClearErrorAndLeavesTheCachedModelsWhole() throws {
        let disk = try ScratchDisk(megabytes: 8)
        defer { disk.remove() }
        let cache = PrunedModelCache(home: disk.url)
        let earlier = try store(cache, 0.2)
        let logits = TestInputs.logits(try ModelDirectory.load(earlier).model, [1, 2, 3])

        disk.fill()
        XCTAssertThrowsError(try store(cache, 0.3)) { error in
            let text = "\(error)"
            XCTAssertTrue(error is FileError, text)
            XCTAssertTrue(text.contains(cache.directory.path) && text.contains("No space left on device"), text)
        }
        XCTAssertNil(cache.cached(recipe(0.3)))
        XCTAssertEqual(disk.partialFiles(), [])
        XCTAssertEqual(TestInputs.logits(try ModelDirectory.load(XCTUnwrap(cache.cached(recipe(0.2)))).model, [1, 2, 3]), logits)

        disk.free()
        XCTAssertNoThrow(try ModelDirectory.load(try store(cache, 0.3)))
    }

    func testAReadOnlyDiskIsAClearErrorAndLeavesTheCachedModelsWhole() throws {
        let disk = try ScratchDisk(megabytes: 8)
        defer { disk.remove() }
        let cache = PrunedModelCache(home: disk.url)
        _ = try store(cache, 0.2)
        disk.remount(writable: false)
        XCTAssertThrowsError(try store(cache, 0.3)) { error in
            XCTAssertTrue("\(error)".contains("Read-only file system"), "\(error)")
        }
        XCTAssertNil(cache.cached(recipe(0.3)))
        XCTAssertNoThrow(try ModelDirectory.load(XCTUnwrap(cache.cached(recipe(0.2)))))
    }

    /// Two makers store the same model at the same moment, round after round, while a reader
    /// loads the model whenever the cache has it: every load succeeds with the same logits, and
    /// each round ends with the one model and no temporary directory.
    func testTwoMakersOfTheSameModelAtOnce() throws {
        let folder = try temporaryFolder("cache-race")
        let cache = PrunedModelCache(home: folder)
        let made = try outcome(sparsity: 0.2), source = try TinyModel.loaded()
        let expected = TestInputs.logits(made.model, [1, 2, 3])
        let rounds = 4
        nonisolated(unsafe) var loads = 0, failures: [String] = []
        let lock = NSLock()
        for _ in 0..<rounds {
            try? FileManager.default.removeItem(at: cache.location(of: recipe(0.2)))
            nonisolated(unsafe) var done = false
            let reader = Thread {
                while !lock.withLock({ done }) {
                    guard let url = cache.cached(self.recipe(0.2)) else { continue }
                    do {
                        let logits = TestInputs.logits(try ModelDirectory.load(url).model, [1, 2, 3])
                        lock.withLock { loads += 1; if logits != expected { failures.append("other logits") } }
                    } catch {
                        lock.withLock { failures.append("\(error)") }
                    }
                }
            }
            reader.start()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do {
                    let url = try cache.store(made, recipe: self.recipe(0.2), calibration: nil, source: source)
                    XCTAssertEqual(url.path, cache.location(of: self.recipe(0.2)).path)
                } catch {
                    lock.withLock { failures.append("store: \(error)") }
                }
            }
            lock.withLock { done = true }
            while reader.isExecuting { Thread.sleep(forTimeInterval: 0.01) }
            let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory.path)
            XCTAssertEqual(names, [recipe(0.2).key], "one model, no temporary directory left")
        }
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThan(loads, 0, "the reader loaded the model at least once")
    }

    /// Storing a model removes the partial directories of this host's processes that have ended
    /// (and those of older versions, named without a host), never another host's: on a shared
    /// file system its process ids mean nothing here, and it may still be writing.
    func testOnlyThisHostsAbandonedPartialsAreRemoved() throws {
        let folder = try temporaryFolder("cache-partials")
        let cache = PrunedModelCache(home: folder)
        try FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
        // A process id above Linux's largest (2^22) runs nowhere here.
        let gone = 9_999_999, host = ProcessInfo.processInfo.hostName
        let names = [".k1.partial-\(gone)-1@\(host)", ".k2.partial-\(gone)-1@another-\(host)", ".k3.partial-\(gone)-1",
                     ".k4.partial-\(getpid())-1@\(host)"]
        for name in names { try FileManager.default.createDirectory(at: cache.directory.appendingPathComponent(name), withIntermediateDirectories: false) }
        _ = try store(cache, 0.2)
        let left = try FileManager.default.contentsOfDirectory(atPath: cache.directory.path).sorted()
        XCTAssertEqual(left, [".k2.partial-\(gone)-1@another-\(host)", ".k4.partial-\(getpid())-1@\(host)", recipe(0.2).key])
        XCTAssertTrue(TemporaryName.next("partial").hasSuffix("@\(host)"))
    }
}
