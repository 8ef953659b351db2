import Kernels

/// The weight of a linear map, `[rows, columns]` row-major, held either as Float32 or in the
/// 2-byte form a checkpoint stores it in (F16 or BF16). A 2-byte matrix takes half the memory of
/// Float32 (a 7B model fits in about 14 GB instead of 27); products convert it to Float32 a tile
/// of rows at a time, just before the tile's BLAS call, so Float32 stays the compute type.
public struct WeightMatrix: Sendable, Equatable {
    /// How the elements are stored.
    public enum Element: String, Sendable {
        case float32, float16, bfloat16

        public var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    public let rows: Int
    public let columns: Int
    public let element: Element
    /// The elements when `element == .float32`, else empty.
    private var values: [Float]
    /// The elements' bit patterns when `element` is `.float16` or `.bfloat16`, else empty.
    private var bits: [UInt16]

    /// A Float32 matrix.
    public init(_ values: [Float], rows: Int, columns: Int) {
        precondition(values.count == rows * columns, "\(values.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        element = .float32
        self.values = values
        bits = []
    }

    /// A 2-byte matrix from the elements' bit patterns (`element` is `.float16` or `.bfloat16`).
    public init(bits: [UInt16], element: Element, rows: Int, columns: Int) {
        precondition(element != .float32, "Float32 matrices are made from their values")
        precondition(bits.count == rows * columns, "\(bits.count) values are not [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        self.element = element
        values = []
        self.bits = bits
    }

    public var count: Int { rows * columns }

    /// Bytes the elements take in memory.
    public var byteCount: Int { count * element.byteCount }

    /// Element `index` of the row-major storage, as Float32.
    public subscript(index: Int) -> Float {
        get { element == .float32 ? values[index] : Self.float(bits[index], element) }
        set {
            if element == .float32 { values[index] = newValue } else { bits[index] = Self.bitPattern(newValue, element) }
        }
    }

    /// Every element as Float32, row-major.
    public var floats: [Float] {
        if element == .float32 { return values }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            convert(rows: 0..<rows, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Calls `body` with the elements as contiguous Float32: the storage itself for a Float32
    /// matrix, a temporary converted copy for a 2-byte one.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if element == .float32 { return try values.withUnsafeBufferPointer(body) }
        return try floats.withUnsafeBufferPointer(body)
    }

    /// Writes rows `range` as Float32 to `out` (`range.count * columns` floats).
    public func convert(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let start = range.lowerBound * columns, n = range.count * columns
        switch element {
        case .float32:
            values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + start, count: n) }
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
        }
    }

    /// `c[m, rows] = a[m, columns] · Wᵀ + beta * c`, spread over the cores. A 2-byte matrix is
    /// converted one tile of rows at a time into a per-core Float32 buffer.
    public func product(_ a: UnsafePointer<Float>, m: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        if element == .float32 {
            values.withUnsafeBufferPointer { w in
                Matmul.timesTransposed(a, lda: columns, m: m, k: columns, w.baseAddress!, ldw: columns, n: rows,
                                       c, ldc: ldc, beta: beta)
            }
            return
        }
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

    /// The given rows, in the given order, in the same element type.
    public func selectingRows(_ chosen: [Int]) -> WeightMatrix {
        func gather<T>(_ source: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(chosen.count * columns)
            for r in chosen { out += source[(r * columns)..<((r + 1) * columns)] }
            return out
        }
        return element == .float32
            ? WeightMatrix(gather(values), rows: chosen.count, columns: columns)
            : WeightMatrix(bits: gather(bits), element: element, rows: chosen.count, columns: columns)
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
        return element == .float32
            ? WeightMatrix(gather(values), rows: rows, columns: chosen.count)
            : WeightMatrix(bits: gather(bits), element: element, rows: rows, columns: chosen.count)
    }

    /// The matrices' rows one after the other; 2-byte storage is kept when all share it.
    public static func stacked(_ parts: [WeightMatrix]) -> WeightMatrix {
        let columns = parts[0].columns
        precondition(parts.allSatisfy { $0.columns == columns })
        let rows = parts.reduce(0) { $0 + $1.rows }
        let element = parts[0].element
        if element != .float32 && parts.allSatisfy({ $0.element == element }) {
            return WeightMatrix(bits: parts.flatMap(\.bits), element: element, rows: rows, columns: columns)
        }
        return WeightMatrix(parts.flatMap(\.floats), rows: rows, columns: columns)
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
