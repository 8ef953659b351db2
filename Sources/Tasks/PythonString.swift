/// Python 3 string semantics that the reference tools' numbers depend on, working on Unicode
/// code points (as Python does), never on Swift's grapheme clusters.
public enum PythonString {
    /// The code points for which Python's `str.isspace()` is true: what `strip()` removes.
    public static let whitespace: Set<UInt32> = [
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    ]

    /// Python's `str.isspace()` for one code point.
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool { whitespace.contains(scalar.value) }

    /// Python's `s.strip()`.
    public static func strip(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// Python's `s.rstrip()`.
    public static func rstrip(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[...last])
    }

    /// Python's `s.capitalize()` (3.8+): the first code point title-cased, all others lower-cased
    /// (full case mappings, with the final-sigma rule).
    public static func capitalize(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        guard let head = scalars.first else { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: head.properties.titlecaseMapping.unicodeScalars)
        for i in scalars.indices.dropFirst() { out.append(contentsOf: lowered(scalars, at: i).unicodeScalars) }
        return String(out)
    }

    /// Python's `len(s)`: the number of code points.
    public static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// Python's `s.replace(old, new)`: non-overlapping, left to right. Matching UTF-8 bytes of
    /// valid UTF-8 is matching code points, since UTF-8 is self-synchronising.
    public static func replace(_ s: String, _ old: String, with new: String) -> String {
        let pattern = Array(old.utf8)
        guard !pattern.isEmpty else { return s }
        let source = Array(s.utf8), replacement = Array(new.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var i = 0
        while i < source.count {
            if source[i] == pattern[0], i + pattern.count <= source.count, source[i..<(i + pattern.count)].elementsEqual(pattern) {
                out.append(contentsOf: replacement)
                i += pattern.count
            } else {
                out.append(source[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func string<C: Collection>(_ scalars: C) -> String where C.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// The lower-case mapping of `scalars[i]`, applying Python's final-sigma rule to U+03A3.
    private static func lowered(_ scalars: [Unicode.Scalar], at i: Int) -> String {
        let scalar = scalars[i]
        guard scalar.value == 0x03A3 else { return scalar.properties.lowercaseMapping }
        return isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}"
    }

    /// Final sigma: preceded by a cased letter and not followed by one (case-ignorables skipped).
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, scalars[j].properties.isCased else { return false }
        var k = i + 1
        while k < scalars.count, scalars[k].properties.isCaseIgnorable { k += 1 }
        return !(k < scalars.count && scalars[k].properties.isCased)
    }
}
