/// What a split pattern needs to know about one Unicode scalar: `\p{L}` (letter: Lu, Ll, Lt,
/// Lm, Lo), `\p{N}` (number: Nd, Nl, No), `\s` (the White_Space property), or anything else.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.isASCII {
            self = Self.ascii[Int(scalar.value)]
            return
        }
        let properties = scalar.properties
        if properties.isWhitespace {
            self = .whitespace
            return
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }

    /// The classes of the 128 ASCII scalars, looked up rather than derived on the hot path.
    private static let ascii: [ScalarClass] = (0..<128).map { value in
        switch UInt8(value) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }
}

/// A text as Unicode scalars, with each scalar's class and UTF-8 offset, for the pre-tokenizer
/// scanners. Pieces are ranges of scalar indices; `byteRange(of:)` turns one into UTF-8 offsets.
struct ScalarText {
    private(set) var scalars: [Unicode.Scalar] = []
    private(set) var classes: [ScalarClass] = []
    /// The UTF-8 offset of each scalar, followed by the total UTF-8 length.
    private(set) var byteOffsets: [Int] = []

    init(_ text: String) {
        let capacity = text.utf8.count
        scalars.reserveCapacity(capacity)
        classes.reserveCapacity(capacity)
        byteOffsets.reserveCapacity(capacity + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            classes.append(ScalarClass(scalar))
            byteOffsets.append(offset)
            offset += UTF8.width(scalar)
        }
        byteOffsets.append(offset)
    }

    var count: Int { scalars.count }

    /// The UTF-8 offsets spanned by the scalars in `range`.
    func byteRange(of range: Range<Int>) -> Range<Int> {
        byteOffsets[range.lowerBound]..<byteOffsets[range.upperBound]
    }

    /// The end of the run of scalars of class `kind` starting at `start`, stopping at `end`.
    func runEnd(of kind: ScalarClass, from start: Int, before end: Int) -> Int {
        var position = start
        while position < end && classes[position] == kind { position += 1 }
        return position
    }

    /// Whether the scalar at `position` is a carriage return or a line feed.
    func isLineBreak(at position: Int) -> Bool {
        scalars[position] == "\r" || scalars[position] == "\n"
    }

    /// The length (2 or 3) of a contraction `'s|'t|'re|'ve|'m|'ll|'d` at `position`, or nil.
    /// With `ignoringCase`, ASCII letters match in either case (LLaMA-3's `(?i:...)`).
    func contractionLength(at position: Int, before end: Int, ignoringCase: Bool) -> Int? {
        guard scalars[position] == "'", position + 1 < end else { return nil }
        func letter(_ offset: Int) -> Unicode.Scalar {
            let scalar = scalars[position + offset]
            guard ignoringCase, ("A"..."Z").contains(scalar) else { return scalar }
            return Unicode.Scalar(UInt8(scalar.value) + 0x20)
        }
        switch letter(1) {
        case "s", "t", "m", "d": return 2
        default: break
        }
        guard position + 2 < end else { return nil }
        switch (letter(1), letter(2)) {
        case ("r", "e"), ("v", "e"), ("l", "l"): return 3
        default: return nil
        }
    }

    /// The length of `\s+(?!\S)|\s+` at `position` (a whitespace scalar): the whole run of
    /// whitespace, except that a run of two or more followed by a non-space leaves its last
    /// scalar to begin the next piece.
    func whitespaceLength(at position: Int, before end: Int) -> Int {
        let runEnd = runEnd(of: .whitespace, from: position, before: end)
        let length = runEnd - position
        return length > 1 && runEnd < end ? length - 1 : length
    }
}
