/// Finds the strings of special tokens in text, scanning left to right and taking, at each
/// position, the longest special token that starts there.
struct SpecialTokenMatcher: Sendable {
    /// A stretch of plain text (a range of scalar indices) or one special token's id.
    enum Segment {
        case text(Range<Int>)
        case special(Int)
    }

    private struct Special: Sendable {
        let scalars: [Unicode.Scalar]
        let id: Int
    }

    /// Special tokens by their first scalar, longest first.
    private let byFirstScalar: [Unicode.Scalar: [Special]]

    /// `tokens` are (string, id) pairs; empty strings are ignored.
    init(tokens: [(text: String, id: Int)]) {
        var byFirstScalar: [Unicode.Scalar: [Special]] = [:]
        for token in tokens {
            let scalars = Array(token.text.unicodeScalars)
            guard let first = scalars.first else { continue }
            byFirstScalar[first, default: []].append(Special(scalars: scalars, id: token.id))
        }
        self.byFirstScalar = byFirstScalar.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    /// `text` cut into plain-text stretches and special tokens, in order.
    func segments(of text: ScalarText) -> [Segment] {
        let scalars = text.scalars
        var segments: [Segment] = []
        var textStart = 0
        var position = 0
        while position < scalars.count {
            guard let candidates = byFirstScalar[scalars[position]],
                  let match = candidates.first(where: { special in
                      position + special.scalars.count <= scalars.count
                          && scalars[position..<(position + special.scalars.count)].elementsEqual(special.scalars)
                  }) else {
                position += 1
                continue
            }
            if textStart < position { segments.append(.text(textStart..<position)) }
            segments.append(.special(match.id))
            position += match.scalars.count
            textStart = position
        }
        if textStart < scalars.count { segments.append(.text(textStart..<scalars.count)) }
        return segments
    }
}
