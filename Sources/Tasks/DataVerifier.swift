import Foundation
import Runtime

/// Checks the files of a `DatasetManifest` in a data directory: present, of the right size, and
/// with the right sha256.
///
/// Hashes are cached in `<data dir>/.bip-verified.json`, keyed by path, size and modification time,
/// so repeated runs hash each file once. The cache is best effort: a data directory without write
/// permission bits (such as the shared read-only copy) is never written to, even by root; every
/// run then hashes again.
public struct DataVerifier: Sendable {
    public static let cacheFileName = ".bip-verified.json"

    public let dataDirectory: DataDirectory

    public init(dataDirectory: DataDirectory) { self.dataDirectory = dataDirectory }

    /// Throws a `DataError` naming `file.path` with `missing`, `size X, expected Y` or
    /// `sha256 X, expected Y`.
    public func verify(_ file: DatasetManifest.File) throws {
        let url = dataDirectory.file(file.path)
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        } catch {
            throw DataError(file: file.path, problem: "missing")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        guard size == file.bytes else {
            throw DataError(file: file.path, problem: "size \(size), expected \(file.bytes)")
        }
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        var cache = loadCache()
        let sha: String
        if let entry = cache[file.path], entry.bytes == size, entry.mtime == mtime {
            sha = entry.sha256
        } else {
            do {
                sha = try SHA256.hex(ofFile: url)
            } catch {
                throw DataError(file: file.path, problem: "unreadable: \(error.localizedDescription)")
            }
            cache[file.path] = CacheEntry(bytes: size, mtime: mtime, sha256: sha)
            saveCache(cache)
        }
        guard sha == file.sha256.lowercased() else {
            throw DataError(file: file.path, problem: "sha256 \(sha), expected \(file.sha256)")
        }
    }

    /// Every problem with the files of `manifest`; empty when all files are good.
    public func problems(in manifest: DatasetManifest) -> [DataError] {
        manifest.files.compactMap { file in
            do {
                try verify(file)
                return nil
            } catch let error as DataError {
                return error
            } catch {
                return DataError(file: file.path, problem: "\(error)")
            }
        }
    }

    /// Throws the first problem with the files of `manifest`.
    public func verify(_ manifest: DatasetManifest) throws {
        if let first = problems(in: manifest).first { throw first }
    }

    private struct CacheEntry: Codable {
        var bytes: Int
        var mtime: Double
        var sha256: String
    }

    private var cacheURL: URL { dataDirectory.file(Self.cacheFileName) }

    private func loadCache() -> [String: CacheEntry] {
        guard let data = FileManager.default.contents(atPath: cacheURL.path),
              let cache = try? JSONDecoder().decode([String: CacheEntry].self, from: data) else { return [:] }
        return cache
    }

    private func saveCache(_ cache: [String: CacheEntry]) {
        let permissions = (try? FileManager.default.attributesOfItem(atPath: dataDirectory.url.path))?[.posixPermissions] as? NSNumber
        guard let permissions, permissions.intValue & 0o200 != 0 else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(cache) else { return }
        try? data.write(to: cacheURL, options: .atomic)
    }
}
