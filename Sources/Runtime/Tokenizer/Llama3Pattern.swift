/// LLaMA-3's split pattern, `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`
/// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, as a scanner over classified scalars,
/// with the longest digit run as a parameter (3 for LLaMA-3, 1 for Qwen2). Alternatives are
/// tried in the pattern's order at each position, so the first that matches wins.
struct Llama3Pattern {
    let maxDigits: Int

    /// Appends the pieces of the scalars `range` of `text` to `pieces`.
    func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = start + pieceLength(text, at: start, before: range.upperBound)
            pieces.append(start..<end)
            start = end
        }
    }

    private func pieceLength(_ text: ScalarText, at start: Int, before end: Int) -> Int {
        if let length = text.contractionLength(at: start, before: end, ignoringCase: true) {
            return length
        }
        let classes = text.classes
        switch classes[start] {
        case .letter:
            // `[^\r\n\p{L}\p{N}]?\p{L}+` without its optional first scalar.
            return text.runEnd(of: .letter, from: start, before: end) - start
        case .number:
            // `\p{N}{1,3}`
            return min(text.runEnd(of: .number, from: start, before: end) - start, maxDigits)
        case .whitespace, .other:
            break
        }
        // `[^\r\n\p{L}\p{N}]?\p{L}+` with its optional first scalar (space, tab, punctuation...).
        if !text.isLineBreak(at: start) && start + 1 < end && classes[start + 1] == .letter {
            return text.runEnd(of: .letter, from: start + 1, before: end) - start
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let hasSpace = text.scalars[start] == " " && start + 1 < end && classes[start + 1] == .other
        let body = hasSpace ? start + 1 : start
        if classes[body] == .other {
            var pieceEnd = text.runEnd(of: .other, from: body, before: end)
            while pieceEnd < end && text.isLineBreak(at: pieceEnd) { pieceEnd += 1 }
            return pieceEnd - start
        }
        // `\s*[\r\n]+`: the whitespace up to and including the run's last line break.
        let whitespaceEnd = text.runEnd(of: .whitespace, from: start, before: end)
        if let lastBreak = (start..<whitespaceEnd).last(where: text.isLineBreak(at:)) {
            return lastBreak + 1 - start
        }
        return text.whitespaceLength(at: start, before: end)
    }
}
