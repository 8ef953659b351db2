/// GPT-2's reversible map between bytes and printable Unicode scalars, used by byte-level BPE
/// vocabularies: the printable bytes `!`...`~`, `¡`...`¬` and `®`...`ÿ` stand for themselves,
/// and the other 68 bytes (controls, space, DEL, NBSP, soft hyphen...) take the scalars
/// U+0100, U+0101, ... in byte order.
enum ByteUnicodeMap {
    /// The scalar standing for each byte, indexed by byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table: [Unicode.Scalar] = []
        table.reserveCapacity(256)
        var nextSubstitute: UInt32 = 0x100
        for byte in 0...255 as ClosedRange<UInt32> {
            if standsForItself(byte) {
                table.append(Unicode.Scalar(byte)!)
            } else {
                table.append(Unicode.Scalar(nextSubstitute)!)
                nextSubstitute += 1
            }
        }
        return table
    }()

    /// The byte each mapped scalar stands for, indexed by scalar value (all are below U+0144).
    private static let byteForScalarValue: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = UInt8(byte) }
        return table
    }()

    /// The byte `scalar` stands for, or nil when it is not one of the 256 mapped scalars.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        return value < byteForScalarValue.count ? byteForScalarValue[value] : nil
    }

    /// The byte-level spelling of `bytes`, as a vocabulary writes it.
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalarForByte[Int(byte)]) }
        return String(text)
    }

    /// The bytes spelled by `text`; a scalar outside the map contributes its own UTF-8 bytes.
    static func decode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let byte = byte(for: scalar) {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    private static func standsForItself(_ byte: UInt32) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }
}
