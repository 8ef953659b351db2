/// GPT-2's split pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// as a scanner over classified scalars. Alternatives are tried in the pattern's order at each
/// position, so the first that matches wins, as in a backtracking regex engine.
enum GPT2Pattern {
    /// Appends the pieces of the scalars `range` of `text` to `pieces`.
    static func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = start + pieceLength(text, at: start, before: range.upperBound)
            pieces.append(start..<end)
            start = end
        }
    }

    private static func pieceLength(_ text: ScalarText, at start: Int, before end: Int) -> Int {
        if let length = text.contractionLength(at: start, before: end, ignoringCase: false) {
            return length
        }
        // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: a run of one class after an optional space.
        let hasSpace = text.scalars[start] == " " && start + 1 < end && text.classes[start + 1] != .whitespace
        let body = hasSpace ? start + 1 : start
        let kind = text.classes[body]
        if kind != .whitespace {
            return text.runEnd(of: kind, from: body, before: end) - start
        }
        return text.whitespaceLength(at: start, before: end)
    }
}
