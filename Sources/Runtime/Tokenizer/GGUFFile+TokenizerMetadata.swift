extension GGUFFile {
    /// The metadata value under `key` read by `read`; an error naming the file when the key is
    /// missing or `read` cannot read it (`expected` says what it should be: "an integer"...).
    func requireValue<T>(_ key: String, _ expected: String, _ read: (GGUFValue) -> T?) throws -> T {
        guard let value = metadata[key] else { throw FileError(path, "missing metadata '\(key)'") }
        guard let result = read(value) else { throw FileError(path, "metadata '\(key)' should be \(expected)") }
        return result
    }

    /// Like `requireValue`, but nil when the key is absent.
    func optionalValue<T>(_ key: String, _ expected: String, _ read: (GGUFValue) -> T?) throws -> T? {
        metadata[key] == nil ? nil : try requireValue(key, expected, read)
    }
}
