import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest
@testable import Tasks

/// Downloads from a local HTTP server on 127.0.0.1 only.
final class DataFetcherTests: XCTestCase {
    /// Starts `python3`'s HTTP server on 127.0.0.1 serving `root`; returns its port.
    private func startServer(serving root: URL) throws -> Int {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import http.server, os, sys
            os.chdir(sys.argv[1])
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """, root.path]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        addTeardownBlock { server.terminate(); server.waitUntilExit() }
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        return try XCTUnwrap(Int(String(decoding: line, as: UTF8.self)), "python3 http.server did not start")
    }

    /// Runs `fetcher.fetch(manifest)` to completion (a synchronous test keeps XCTest's async
    /// machinery out of the way of the child process and the pipe).
    private func fetch(_ manifest: DatasetManifest, with fetcher: DataFetcher) -> DataFetcher.Report? {
        let done = expectation(description: "fetch")
        let box = ReportBox()
        Task {
            box.report = await fetcher.fetch(manifest)
            done.fulfill()
        }
        wait(for: [done], timeout: 120)
        return box.report
    }

    private final class ReportBox: @unchecked Sendable {
        var report: DataFetcher.Report?
    }

    func testGoodFileLandsCorruptedFileFailsAndLeavesNothing() throws {
        let real = try realData()
        let served = try temporaryFolder("fetch"), target = try temporaryFolder("fetch")
        try FileManager.default.copyItem(at: real.file("piqa/valid-labels.lst"), to: served.appendingPathComponent("piqa-labels.lst"))
        var corrupted = try Data(contentsOf: real.file("winogrande/dev-labels.lst"))
        corrupted[0] ^= 0x03
        try corrupted.write(to: served.appendingPathComponent("wino-labels.lst"))
        let port = try startServer(serving: served)

        var piqa = try XCTUnwrap(try DatasetManifest.load("piqa").file("piqa/valid-labels.lst"))
        piqa.url = "http://127.0.0.1:\(port)/piqa-labels.lst"
        var wino = try XCTUnwrap(try DatasetManifest.load("winogrande").file("winogrande/dev-labels.lst"))
        wino.url = "http://127.0.0.1:\(port)/wino-labels.lst"
        let manifest = DatasetManifest(name: "local", description: "", license: "", source: "", files: [piqa, wino])

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        let fetcher = DataFetcher(dataDirectory: DataDirectory(url: target), session: URLSession(configuration: configuration))
        let report = try XCTUnwrap(fetch(manifest, with: fetcher))
        XCTAssertEqual(report.fetched, ["piqa/valid-labels.lst"])
        XCTAssertEqual(report.failed.map(\.file), ["winogrande/dev-labels.lst"])
        let problem = try XCTUnwrap(report.failed.first).problem
        XCTAssertTrue(problem.contains("sha256") && problem.contains("expected \(wino.sha256)"), problem)

        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("piqa/valid-labels.lst")),
                       try Data(contentsOf: real.file("piqa/valid-labels.lst")))
        let left = try FileManager.default.subpathsOfDirectory(atPath: target.path).sorted()
        XCTAssertEqual(left, [".bip-verified.json", "piqa", "piqa/valid-labels.lst"])

        let again = try XCTUnwrap(fetch(manifest, with: fetcher))
        XCTAssertEqual(again.present, ["piqa/valid-labels.lst"])
        XCTAssertEqual(again.fetched, [])
    }

    func testNonIdenticalSourceIsNotDownloaded() throws {
        let target = try temporaryFolder("fetch")
        let manifest = try DatasetManifest.load("hellaswag")
        let report = try XCTUnwrap(fetch(manifest, with: DataFetcher(dataDirectory: DataDirectory(url: target))))
        XCTAssertEqual(report.failed.map(\.file), ["hellaswag/hellaswag_val.jsonl"])
        XCTAssertTrue(report.failed[0].problem.hasPrefix("no byte-identical public copy"), report.failed[0].problem)
    }
}
