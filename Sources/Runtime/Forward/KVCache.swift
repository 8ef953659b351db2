/// Keys and values of every layer for a number of independent sequences ("slots").
///
/// A slot holds the tokens run so far for one sequence; a forward pass appends to it. To score
/// several continuations of one context, run the context in one slot, `copy` it to other slots,
/// and run each continuation in its own slot. Storage per layer is `[slots, capacity, kvWidth]`
/// and grows as sequences get longer.
public final class KVCache {
    public let slotCount: Int
    public private(set) var capacity: Int
    public private(set) var lengths: [Int]
    private let kvWidths: [Int]
    private var keys: [UnsafeMutablePointer<Float>]
    private var values: [UnsafeMutablePointer<Float>]

    public init(model: LlamaModel, slots: Int, capacity: Int = 256) {
        slotCount = slots
        self.capacity = max(1, capacity)
        lengths = Array(repeating: 0, count: slots)
        kvWidths = model.layers.map(\.kvWidth)
        keys = kvWidths.map { .allocate(capacity: slots * max(1, capacity) * $0) }
        values = kvWidths.map { .allocate(capacity: slots * max(1, capacity) * $0) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Empties every slot.
    public func reset() { lengths = Array(repeating: 0, count: slotCount) }

    /// Forgets the tokens of `slot` from position `length` on.
    public func truncate(slot: Int, to length: Int) {
        precondition(length <= lengths[slot])
        lengths[slot] = length
    }

    /// Makes slot `to` hold the first `length` tokens of slot `from`.
    public func copy(from: Int, to: Int, length: Int) {
        precondition(length <= lengths[from])
        guard from != to else { lengths[to] = length; return }
        for l in 0..<kvWidths.count {
            let w = kvWidths[l]
            (keys[l] + to * capacity * w).update(from: keys[l] + from * capacity * w, count: length * w)
            (values[l] + to * capacity * w).update(from: values[l] + from * capacity * w, count: length * w)
        }
        lengths[to] = length
    }

    /// Makes room for `length` tokens in every slot, keeping what is stored.
    func ensureCapacity(_ length: Int) {
        guard length > capacity else { return }
        let newCapacity = max(length, capacity * 2)
        for l in 0..<kvWidths.count {
            let w = kvWidths[l]
            for store in [\KVCache.keys, \KVCache.values] {
                let old = self[keyPath: store][l]
                let grown = UnsafeMutablePointer<Float>.allocate(capacity: slotCount * newCapacity * w)
                for s in 0..<slotCount where lengths[s] > 0 {
                    (grown + s * newCapacity * w).update(from: old + s * capacity * w, count: lengths[s] * w)
                }
                old.deallocate()
                self[keyPath: store][l] = grown
            }
        }
        capacity = newCapacity
    }

    /// Key rows of `slot` in `layer`: `[capacity, kvWidth]`.
    func keys(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> { keys[layer] + slot * capacity * kvWidths[layer] }
    func values(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> { values[layer] + slot * capacity * kvWidths[layer] }

    func advance(slot: Int, by n: Int) { lengths[slot] += n }
}
