import Foundation
import Runtime
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads the missing or corrupt files of a `DatasetManifest` from their URLs into a data
/// directory. A download is written to a temporary file next to its destination and renamed
/// into place only after its size and sha256 match the manifest, so no half-written or wrong
/// file is ever left under the final name.
public struct DataFetcher: Sendable {
    /// What `fetch` did, file by file (paths relative to the data directory).
    public struct Report: Sendable {
        /// Files that were already present and verified.
        public var present: [String] = []
        /// Files that were downloaded and verified.
        public var fetched: [String] = []
        /// Files that could not be provided, each naming the file and the problem.
        public var failed: [DataError] = []
    }

    public let dataDirectory: DataDirectory
    private let session: URLSession

    public init(dataDirectory: DataDirectory, session: URLSession = .shared) {
        self.dataDirectory = dataDirectory
        self.session = session
    }

    /// Verifies every file of `manifest` and downloads those that are missing or wrong.
    /// Files whose URL does not serve the same bytes (`byteIdentical == false`) are reported as
    /// failed rather than downloaded.
    public func fetch(_ manifest: DatasetManifest) async -> Report {
        let verifier = DataVerifier(dataDirectory: dataDirectory)
        var report = Report()
        for file in manifest.files {
            guard (try? verifier.verify(file)) == nil else {
                report.present.append(file.path)
                continue
            }
            do {
                try await download(file)
                try verifier.verify(file)
                report.fetched.append(file.path)
            } catch let error as DataError {
                report.failed.append(error)
            } catch {
                report.failed.append(DataError(file: file.path, problem: "\(error)"))
            }
        }
        return report
    }

    /// Downloads `file.url` to `file.path`; throws a `DataError` naming the file on any failure.
    public func download(_ file: DatasetManifest.File) async throws {
        guard file.byteIdentical else {
            throw DataError(file: file.path, problem: "no byte-identical public copy at \(file.url): \(file.note ?? "")")
        }
        guard let url = URL(string: file.url) else {
            throw DataError(file: file.path, problem: "bad URL \(file.url)")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(from: url)
        } catch {
            throw DataError(file: file.path, problem: "download from \(file.url) failed: \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            throw DataError(file: file.path, problem: "download from \(file.url): HTTP \(http.statusCode)")
        }
        guard data.count == file.bytes else {
            throw DataError(file: file.path, problem: "downloaded from \(file.url): size \(data.count), expected \(file.bytes)")
        }
        let sha = SHA256.hex(of: data)
        guard sha == file.sha256.lowercased() else {
            throw DataError(file: file.path, problem: "downloaded from \(file.url): sha256 \(sha), expected \(file.sha256)")
        }
        let destination = dataDirectory.file(file.path)
        let folder = destination.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).part")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(file: file.path, problem: "cannot write \(temporary.path): \(error.localizedDescription)")
        }
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(file: file.path, problem: "cannot rename into place: \(reason)")
        }
    }
}
