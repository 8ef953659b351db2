import Foundation

/// A line plot as a standalone SVG: one line with markers per series, each point with its error
/// bar where it has an interval, dashed reference levels (the dense model, chance), axes with
/// ticks, and a legend as wide and as tall as its entries need. Each series has its own style: a
/// color, and past the palette's end another marker shape. Linear or log10 y axis. Values it cannot place are left out: a point or
/// level that is not finite (a collapsed model's perplexity overflows to inf) or, on the log
/// axis, not positive; an interval with such a bound.
struct SVGLinePlot {
    struct Point {
        let x: Double
        let y: Double
        /// The point's interval (95%), drawn as an error bar.
        var interval: ClosedRange<Double>? = nil
    }

    struct Series {
        let name: String
        let points: [Point]
    }

    /// A horizontal level across the plot, dashed with `dash` (an SVG dash array) in `color`.
    struct Reference {
        let label: String
        let y: Double
        var dash = "6 4"
        var color = "black"
    }

    let title: String
    let xLabel: String
    let yLabel: String
    let logY: Bool
    let series: [Series]
    let references: [Reference]

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]

    /// A point's mark; lines stay solid, since dashes mean reference levels.
    enum Marker: CaseIterable {
        case circle, square, diamond, triangle

        /// The mark centered on (x, y) in `color`.
        func svg(_ x: Double, _ y: Double, _ color: String) -> String {
            let f = SVGLinePlot.coordinate
            switch self {
            case .circle: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(color)\"/>"
            case .square: return "<rect x=\"\(f(x - 3.5))\" y=\"\(f(y - 3.5))\" width=\"7\" height=\"7\" fill=\"\(color)\"/>"
            case .diamond: return "<path d=\"M\(f(x)),\(f(y - 5))L\(f(x + 5)),\(f(y))L\(f(x)),\(f(y + 5))L\(f(x - 5)),\(f(y))Z\" fill=\"\(color)\"/>"
            case .triangle: return "<path d=\"M\(f(x)),\(f(y - 5))L\(f(x + 5)),\(f(y + 4))L\(f(x - 5)),\(f(y + 4))Z\" fill=\"\(color)\"/>"
            }
        }
    }

    /// The style of the `index`th series: the palette's colors with circles, then with squares, and so on.
    static func style(_ index: Int) -> (color: String, marker: Marker) {
        (palette[index % palette.count], Marker.allCases[(index / palette.count) % Marker.allCases.count])
    }

    private let plotW = 500.0, plotH = 345.0
    private let left = 70.0, top = 40.0, bottom = 55.0
    /// The legend's spacing, and a width per character of its labels at least as wide as 13-pixel Helvetica's.
    private static let legendGap = 16.0, legendText = 34.0, legendRow = 22.0, characterWidth = 7.5

    var svg: String {
        let placeable = { (y: Double) in y.isFinite && (!logY || y > 0) }
        let series = self.series.map { s in
            Series(name: s.name, points: s.points.compactMap { p in
                guard placeable(p.y) else { return nil }
                return Point(x: p.x, y: p.y, interval: p.interval.flatMap { placeable($0.lowerBound) && placeable($0.upperBound) ? $0 : nil })
            })
        }.filter { !$0.points.isEmpty }
        let references = self.references.filter { placeable($0.y) }
        let ys: [Double] = series.flatMap { $0.points.flatMap { [$0.y] + ($0.interval.map { [$0.lowerBound, $0.upperBound] } ?? []) } }
            + references.map(\.y)
        let xs: [Double] = series.flatMap { $0.points.map(\.x) } + [0]
        guard let yMin0 = ys.min(), let yMax0 = ys.max(), let xMax0 = xs.max() else { return "" }
        let xMax = xMax0 > 0 ? xMax0 : 1
        let (yTicks, yLow, yHigh) = logY ? Self.logTicks(yMin0, yMax0) : Self.linearTicks(yMin0, yMax0)
        let labels = references.map(\.label) + series.map(\.name)
        let right = max(190, Self.legendGap + Self.legendText + Self.characterWidth * Double(labels.map(\.count).max() ?? 0) + 10)
        let width = left + plotW + right
        let height = max(top + plotH + bottom, top + 12 + Self.legendRow * Double(labels.count) + 10)
        func sx(_ x: Double) -> Double { left + plotW * x / (xMax * 1.05) }
        func sy(_ y: Double) -> Double {
            let t = logY ? (log10(y) - log10(yLow)) / (log10(yHigh) - log10(yLow)) : (y - yLow) / (yHigh - yLow)
            return top + plotH * (1 - t)
        }
        var out: [String] = []
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">")
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        out.append("<text x=\"\(f(left + plotW / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(Self.escape(title))</text>")
        // Grid and y ticks.
        for tick in yTicks {
            let y = sy(tick)
            out.append("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>")
            out.append("<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.label(tick))</text>")
        }
        // X ticks at the sweep's sparsities (and 0).
        let xTicks = Array(Set(xs)).sorted()
        for tick in xTicks {
            let x = sx(tick)
            out.append("<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"black\"/>")
            out.append("<text x=\"\(f(x))\" y=\"\(f(top + plotH + 20))\" text-anchor=\"middle\">\(String(format: "%.2f", tick))</text>")
        }
        out.append("<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"black\"/>")
        out.append("<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + bottom - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>")
        out.append("<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>")
        var legend: [(label: String, color: String, mark: Marker?, dash: String?)] = []
        for reference in references {
            let y = sy(reference.y)
            out.append("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"\(reference.color)\" stroke-dasharray=\"\(reference.dash)\"/>")
            legend.append((reference.label, reference.color, nil, reference.dash))
        }
        for (i, s) in series.enumerated() {
            let (color, marker) = Self.style(i)
            let points = s.points.sorted { $0.x < $1.x }
            if points.count > 1 {
                out.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"" + points.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ") + "\"/>")
            }
            for p in points {
                if let interval = p.interval {
                    // Bars of different series at one sparsity are set a little apart, so none hides another.
                    let x = sx(p.x) + (Double(i) - Double(series.count - 1) / 2) * 5, low = sy(interval.lowerBound), high = sy(interval.upperBound)
                    out.append("<path d=\"M\(f(x)),\(f(low))V\(f(high))M\(f(x - 4)),\(f(low))h8M\(f(x - 4)),\(f(high))h8\" stroke=\"\(color)\" stroke-width=\"1.2\" fill=\"none\"/>")
                }
                out.append(marker.svg(sx(p.x), sy(p.y), color))
            }
            legend.append((s.name, color, marker, nil))
        }
        for (i, entry) in legend.enumerated() {
            let y = top + 12 + Double(i) * Self.legendRow, x = left + plotW + Self.legendGap
            if let dash = entry.dash {
                out.append("<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 26))\" y2=\"\(f(y))\" stroke=\"\(entry.color)\" stroke-dasharray=\"\(dash)\"/>")
            } else {
                out.append("<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 26))\" y2=\"\(f(y))\" stroke=\"\(entry.color)\" stroke-width=\"2\"/>")
            }
            if let mark = entry.mark { out.append(mark.svg(x + 13, y, entry.color)) }
            out.append("<text x=\"\(f(x + Self.legendText))\" y=\"\(f(y + 4))\">\(Self.escape(entry.label))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private func f(_ x: Double) -> String { Self.coordinate(x) }

    /// A coordinate as the SVG writes it, to a tenth of a pixel.
    static func coordinate(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Ticks at 1, 2, 5 × 10^k inside the axis, or at m × 10^k (m = 1, 1.5, 2, 3, …, 9) when that gives
    /// fewer than three, and the axis ends (10% outside the data).
    static func logTicks(_ low: Double, _ high: Double) -> ([Double], Double, Double) {
        let lo = max(low, 1e-9) / 1.1, hi = max(high, low * 1.01) * 1.1
        func ticks(_ mantissas: [Double]) -> [Double] {
            var out: [Double] = []
            var decade = pow(10, floor(log10(lo)))
            while decade <= hi {
                for m in mantissas where decade * m >= lo && decade * m <= hi { out.append(decade * m) }
                decade *= 10
            }
            return out
        }
        var chosen = ticks([1, 2, 5])
        if chosen.count < 3 { chosen = ticks([1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9]) }
        if chosen.count < 2 { chosen = [lo, hi] }
        return (chosen, lo, hi)
    }

    /// About five ticks at a step of 1, 2 or 5 × 10^k, and axis ends a little outside the data.
    static func linearTicks(_ low: Double, _ high: Double) -> ([Double], Double, Double) {
        let span = max(high - low, abs(high) * 0.02, 1e-6)
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw }!
        let lo = floor((low - span * 0.05) / step) * step, hi = ceil((high + span * 0.05) / step) * step
        return (stride(from: lo, through: hi + step / 2, by: step).map { $0 }, lo, hi)
    }

    static func label(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e7 { return String(format: "%.0f", x) }
        return abs(x) >= 1 ? String(format: "%.1f", x) : String(format: "%.2g", x)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
