import Kernels
import Runtime

/// An `ActivationObserver` that accumulates `LayerStatistics` for every layer in Double.
/// `layerOffset` maps the observed layer indices to model layers (for one-layer runs).
public final class StatisticsCollector: ActivationObserver {
    public private(set) var layers: [Int: LayerStatistics] = [:]
    let rmsEpsilon: Double
    var layerOffset = 0

    public init(rmsEpsilon: Float) { self.rmsEpsilon = Double(rmsEpsilon) }

    public func observe(_ site: ActivationSite, layer observed: Int, rows: UnsafePointer<Float>, count: Int, width: Int) {
        guard site != .blockOutput else { return }
        let layer = observed + layerOffset
        var stats = layers[layer] ?? LayerStatistics(attentionWidth: 0, ffnWidth: 0)
        layers[layer] = nil  // keep the arrays uniquely referenced while they are updated
        switch site {
        case .attentionOutputInput:
            if stats.aSum.isEmpty { stats.aSum = Array(repeating: 0, count: width); stats.aSumAbs = stats.aSum; stats.aSumSquares = stats.aSum }
            Self.accumulate(rows, count: count, width: width, into: &stats.aSumAbs, &stats.aSum, &stats.aSumSquares)
            stats.tokens += count
        case .downProjInput:
            if stats.zSum.isEmpty { stats.zSum = Array(repeating: 0, count: width); stats.zSumAbs = stats.zSum; stats.zSumSquares = stats.zSum }
            Self.accumulate(rows, count: count, width: width, into: &stats.zSumAbs, &stats.zSum, &stats.zSumSquares)
        case .ffnNormInput:
            for r in 0..<count {
                stats.hRMSSum += (RowOps.sumOfSquares(rows + r * width, width) / Double(width) + rmsEpsilon).squareRoot()
            }
        case .blockOutput:
            break
        }
        layers[layer] = stats
    }

    /// Adds Σ|x|, Σx, Σx² of every column, the columns split over the cores.
    private static func accumulate(_ rows: UnsafePointer<Float>, count: Int, width: Int,
                                   into sumAbs: inout [Double], _ sum: inout [Double], _ sumSquares: inout [Double]) {
        sumAbs.withUnsafeMutableBufferPointer { absolute in
            sum.withUnsafeMutableBufferPointer { plain in
                sumSquares.withUnsafeMutableBufferPointer { squares in
                    let (absolute, plain, squares) = (absolute.baseAddress!, plain.baseAddress!, squares.baseAddress!)
                    Parallel.forRanges(width, minimumPerRange: 64) { columns in
                        for r in 0..<count {
                            let row = rows + r * width
                            for j in columns {
                                let v = Double(row[j])
                                absolute[j] += Swift.abs(v)
                                plain[j] += v
                                squares[j] += v * v
                            }
                        }
                    }
                }
            }
        }
    }
}
