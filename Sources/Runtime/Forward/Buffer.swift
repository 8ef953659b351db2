/// A growable, uninitialised Float32 scratch buffer owned by one forward pass.
/// Growing discards the contents; buffers grow to the largest batch seen and then stay.
final class Buffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }

    /// The buffer, with room for at least `count` floats.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
