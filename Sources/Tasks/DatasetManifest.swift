import Foundation

/// What one data set consists of: its files with size, sha256, record count, fields, split and
/// public URL. Loaded from `datasets/<name>.json` (see `datasets/README.md`).
public struct DatasetManifest: Codable, Equatable, Sendable {
    /// One file of a data set, at `path` relative to the data directory.
    public struct File: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String
        /// Rows, lines or documents, as the data README counts them.
        public var records: Int
        /// `jsonl`, `text`, `lines` (one value a line) or `tsv`.
        public var format: String
        public var fields: [String]
        public var split: String
        /// Where the file can be downloaded (its upstream copy).
        public var url: String
        /// Whether the bytes at `url` are exactly this file; if not, `note` says how they differ.
        public var byteIdentical: Bool
        public var note: String?

        public init(path: String, bytes: Int, sha256: String, records: Int, format: String, fields: [String],
                    split: String, url: String, byteIdentical: Bool, note: String? = nil) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
            self.records = records
            self.format = format
            self.fields = fields
            self.split = split
            self.url = url
            self.byteIdentical = byteIdentical
            self.note = note
        }
    }

    public var name: String
    public var description: String
    public var license: String
    public var source: String
    public var files: [File]

    public init(name: String, description: String, license: String, source: String, files: [File]) {
        self.name = name
        self.description = description
        self.license = license
        self.source = source
        self.files = files
    }

    /// The names of the shipped manifests: the data sets of `TaskCatalog` in table order, then
    /// `c4` (calibration data, not a task).
    public static let allNames = TaskCatalog.all.map(\.dataset).reduce(into: []) { if !$0.contains($1) { $0.append($1) } } + ["c4"]

    /// The folder holding the manifests: `$BIP_DATASETS` if set, else `datasets/` of the package
    /// checkout this file was compiled from.
    public static func directory() -> URL {
        if let env = ProcessInfo.processInfo.environment["BIP_DATASETS"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Tasks
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // package root
            .appendingPathComponent("datasets", isDirectory: true)
    }

    /// Loads `<directory>/<name>.json`.
    public static func load(_ name: String, from directory: URL = DatasetManifest.directory()) throws -> DatasetManifest {
        let url = directory.appendingPathComponent("\(name).json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError(file: url.path, problem: "missing (set BIP_DATASETS to the folder holding the manifests)")
        }
        do {
            return try JSONDecoder().decode(DatasetManifest.self, from: data)
        } catch {
            throw DataError(file: url.path, problem: "not a valid manifest: \(error)")
        }
    }

    /// Loads every manifest in `allNames`.
    public static func loadAll(from directory: URL = DatasetManifest.directory()) throws -> [DatasetManifest] {
        try allNames.map { try load($0, from: directory) }
    }

    /// The manifest entry for `path`, if this data set has that file.
    public func file(_ path: String) -> File? { files.first { $0.path == path } }
}
