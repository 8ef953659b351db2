import Foundation

extension Encodable {
    /// The value as JSON on one line with sorted keys, the form bip stores records in and prints
    /// with `--json`, so that the same value always gives the same bytes. Slashes are written
    /// plain unless `escapingSlashes` (the stored evaluation options keep the escaped form that
    /// earlier versions wrote).
    public func sortedKeyJSON(escapingSlashes: Bool = false) -> String {
        String(decoding: sortedKeyJSONData(escapingSlashes: escapingSlashes), as: UTF8.self)
    }

    /// `sortedKeyJSON` as bytes.
    public func sortedKeyJSONData(escapingSlashes: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = escapingSlashes ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        // bip's records hold strings, numbers, arrays and nested records only: encoding cannot fail.
        return try! encoder.encode(self)
    }
}
