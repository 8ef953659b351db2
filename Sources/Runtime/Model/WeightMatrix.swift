import Kernels

/// The weight of a linear map, `[rows, columns]` row-major, held as Float32, in the 2-byte form a
/// checkpoint stores it in (F16 or BF16), or packed into oneDNN's blocked layout. A 2-byte matrix
/// takes half the memory of Float32 (a 7B model fits in about 14 GB instead of 27); products
/// convert it to Float32 a tile of rows at a time, just before the tile's BLAS call, so Float32
/// stays the compute type. A packed matrix (`packed(for:)`, what `LlamaModel.prepare(for:)` does
/// for evaluation) holds only its values in that layout, Float32 or BF16; a BF16 matrix's products
/// round the activations to BF16 (`--compute bf16`).
public struct WeightMatrix: Sendable, Equatable {
    /// How the elements are stored.
    public enum Element: String, Sendable {
        case float32, float16, bfloat16

        public var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    private enum Storage: Sendable {
        case float32([Float])
        /// The elements' bit patterns, F16 or BF16.
        case twoByte([UInt16])
        case packed(PackedMatmul)
    }

    public let rows: Int
    public let columns: Int
    /// The elements' type (for a packed matrix, its operands').
    public let element: Element
    private var storage: Storage

    /// A Float32 matrix.
    public init(_ values: [Float], rows: Int, columns: Int) {
        precondition(values.count == rows * columns, "\(values.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        element = .float32
        storage = .float32(values)
    }

    /// A 2-byte matrix from the elements' bit patterns (`element` is `.float16` or `.bfloat16`).
    public init(bits: [UInt16], element: Element, rows: Int, columns: Int) {
        precondition(element != .float32, "Float32 matrices are made from their values")
        precondition(bits.count == rows * columns, "\(bits.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        self.element = element
        storage = .twoByte(bits)
    }

    public var count: Int { rows * columns }

    /// Bytes the elements take in memory.
    public var byteCount: Int { count * element.byteCount }

    /// The operands of the packed matrix; nil when it is not packed.
    public var packing: PackedMatmul.Operands? {
        if case .packed(let matmul) = storage { return matmul.operands }
        return nil
    }

    /// The matrix packed for products with `operands`, reordered into oneDNN's layout, nothing
    /// else kept: for `.bfloat16` its elements are rounded to BF16 (nearest even; BF16 elements
    /// stay as they are), for `.float32` a 2-byte matrix's elements are widened. An empty matrix
    /// (a layer pruned to nothing) stays as it is. Throws where oneDNN has no such matmul.
    public func packed(for operands: PackedMatmul.Operands) throws -> WeightMatrix {
        if count == 0 || packing == operands { return self }
        let matmul: PackedMatmul
        switch operands {
        case .float32:
            matmul = try withFloats { try PackedMatmul(values: $0, rows: rows, columns: columns) }
        case .bfloat16:
            if case .twoByte(let bits) = storage, element == .bfloat16 {
                matmul = try PackedMatmul(bits: bits, rows: rows, columns: columns)
            } else {
                matmul = try withFloats { try PackedMatmul(roundingToBFloat16: $0, rows: rows, columns: columns) }
            }
        }
        return WeightMatrix(rows: rows, columns: columns, element: operands == .float32 ? .float32 : .bfloat16, storage: .packed(matmul))
    }

    private init(rows: Int, columns: Int, element: Element, storage: Storage) {
        (self.rows, self.columns, self.element, self.storage) = (rows, columns, element, storage)
    }

    /// The storage with a packed matrix unpacked from oneDNN's layout (an exact reorder).
    private var unpacked: Storage {
        guard case .packed(let matmul) = storage else { return storage }
        // The weights were packed by the same oneDNN, so a failure here is oneDNN's own (out of memory).
        do {
            return matmul.operands == .float32 ? .float32(try matmul.unpacked(as: Float.self)) : .twoByte(try matmul.unpacked(as: UInt16.self))
        } catch {
            preconditionFailure("unpacking a matrix: \(error)")
        }
    }

    /// The 2-byte elements' bit patterns; nil for a Float32 matrix.
    private var twoByteBits: [UInt16]? {
        if case .twoByte(let bits) = unpacked { return bits }
        return nil
    }

    /// Element `index` of the row-major storage, as Float32. Reading an element of a packed
    /// matrix unpacks it (slow); writing one leaves the matrix unpacked.
    public subscript(index: Int) -> Float {
        get {
            switch storage {
            case .float32(let values): return values[index]
            case .twoByte(let bits): return Self.float(bits[index], element)
            case .packed: return WeightMatrix(rows: rows, columns: columns, element: element, storage: unpacked)[index]
            }
        }
        set {
            if case .packed = storage { storage = unpacked }
            switch storage {
            case .float32(var values):
                storage = .twoByte([])
                values[index] = newValue
                storage = .float32(values)
            case .twoByte(var bits):
                storage = .twoByte([])
                bits[index] = Self.bitPattern(newValue, element)
                storage = .twoByte(bits)
            case .packed: preconditionFailure("unreachable: unpacked above")
            }
        }
    }

    /// Every element as Float32, row-major.
    public var floats: [Float] {
        if case .float32(let values) = unpacked { return values }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            convert(rows: 0..<rows, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Calls `body` with the elements as contiguous Float32: the storage itself for a Float32
    /// matrix, a temporary converted copy otherwise.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if case .float32(let values) = unpacked { return try values.withUnsafeBufferPointer(body) }
        return try floats.withUnsafeBufferPointer(body)
    }

    /// Writes rows `range` as Float32 to `out` (`range.count * columns` floats).
    public func convert(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let start = range.lowerBound * columns, n = range.count * columns
        if case .float32(let values) = unpacked {
            values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + start, count: n) }
            return
        }
        let bits = twoByteBits!
        switch element {
        case .bfloat16:
            bits.withUnsafeBufferPointer { b in
                let src = b.baseAddress! + start
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(src[i]) << 16) }
            }
        case .float16:
            bits.withUnsafeBufferPointer { b in
                Self.halfTable.withUnsafeBufferPointer { table in
                    let src = b.baseAddress! + start
                    for i in 0..<n { out[i] = table[Int(src[i])] }
                }
            }
        case .float32: preconditionFailure("unreachable: Float32 storage handled above")
        }
    }

    /// `c[m, rows] = a[m, columns] · Wᵀ + beta * c`, spread over the cores. A 2-byte matrix is
    /// converted one tile of rows at a time into a per-core Float32 buffer. A packed matrix runs
    /// oneDNN's matmul (`beta` 0 or 1).
    public func product(_ a: UnsafePointer<Float>, m: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        switch storage {
        case .float32(let values):
            values.withUnsafeBufferPointer { w in
                Matmul.timesTransposed(a, lda: columns, m: m, k: columns, w.baseAddress!, ldw: columns, n: rows,
                                       c, ldc: ldc, beta: beta)
            }
        case .packed(let matmul):
            precondition(beta == 0 || beta == 1, "a packed product takes beta 0 or 1")
            // The weights were packed by the same oneDNN on the same CPU, so a failure here is
            // oneDNN's own (out of memory), not the input's.
            do { try matmul.product(a, m: m, into: c, ldc: ldc, accumulate: beta == 1) } catch { preconditionFailure("packed product: \(error)") }
        case .twoByte:
            guard m > 0, rows > 0 else { return }
            let tileRows = max(16, (1 << 18) / max(columns, 1))   // about 1 MB of Float32 per tile
            let tiles = (rows + tileRows - 1) / tileRows
            let workers = min(Parallel.cores, tiles)
            Parallel.forEach(workers) { w in
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * columns)
                defer { tile.deallocate() }
                var t = w
                while t < tiles {
                    let r0 = t * tileRows, r1 = min(rows, r0 + tileRows)
                    convert(rows: r0..<r1, into: tile)
                    Matmul.serial(a, lda: columns, m: m, k: columns, tile, ldb: columns, n: r1 - r0, transposeB: true,
                                  c + r0, ldc: ldc, beta: beta)
                    t += workers
                }
            }
        }
    }

    /// The given rows, in the given order, in the same element type.
    public func selectingRows(_ chosen: [Int]) -> WeightMatrix {
        func gather<T>(_ source: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(chosen.count * columns)
            for r in chosen { out += source[(r * columns)..<((r + 1) * columns)] }
            return out
        }
        if let bits = twoByteBits { return WeightMatrix(bits: gather(bits), element: element, rows: chosen.count, columns: columns) }
        return WeightMatrix(gather(floats), rows: chosen.count, columns: columns)
    }

    /// The given columns, in the given order, in the same element type.
    public func selectingColumns(_ chosen: [Int]) -> WeightMatrix {
        func gather<T>(_ source: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(rows * chosen.count)
            for r in 0..<rows {
                let row = r * columns
                for c in chosen { out.append(source[row + c]) }
            }
            return out
        }
        if let bits = twoByteBits { return WeightMatrix(bits: gather(bits), element: element, rows: rows, columns: chosen.count) }
        return WeightMatrix(gather(floats), rows: rows, columns: chosen.count)
    }

    /// The matrices' rows one after the other; 2-byte storage is kept when all share it.
    public static func stacked(_ parts: [WeightMatrix]) -> WeightMatrix {
        let columns = parts[0].columns
        precondition(parts.allSatisfy { $0.columns == columns })
        let rows = parts.reduce(0) { $0 + $1.rows }
        let element = parts[0].element
        if element != .float32 && parts.allSatisfy({ $0.element == element }) {
            return WeightMatrix(bits: parts.flatMap { $0.twoByteBits! }, element: element, rows: rows, columns: columns)
        }
        return WeightMatrix(parts.flatMap(\.floats), rows: rows, columns: columns)
    }

    /// Equal shapes, element types and elements (packed or not).
    public static func == (a: WeightMatrix, b: WeightMatrix) -> Bool {
        guard a.rows == b.rows, a.columns == b.columns, a.element == b.element else { return false }
        if let x = a.twoByteBits, let y = b.twoByteBits { return x == y }
        return a.floats == b.floats
    }

    static func float(_ bits: UInt16, _ element: Element) -> Float {
        element == .bfloat16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))
    }

    /// The nearest 2-byte value (round to nearest even; NaN stays NaN).
    static func bitPattern(_ value: Float, _ element: Element) -> UInt16 {
        if element == .float16 { return Float16(value).bitPattern }
        let b = value.bitPattern
        if value.isNaN { return UInt16(b >> 16) | 0x40 }
        return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    /// Float32 of every F16 bit pattern: conversion by lookup (256 KB, stays in cache).
    private static let halfTable: [Float] = (0..<65536).map { Float(Float16(bitPattern: UInt16($0))) }
}
