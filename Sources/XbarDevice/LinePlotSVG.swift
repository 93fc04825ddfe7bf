import Foundation

/// One line of a line plot: (x, y) points in order.
public struct LineSeries: Sendable {
    public var label: String
    public var points: [(x: Double, y: Double)]
    public var color: String
    /// Dashed (for example the chip beside the software's solid line).
    public var dashed: Bool
    public init(label: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
        self.label = label
        self.points = points
        self.color = color
        self.dashed = dashed
    }
}

/// Writes lines over shared axes as a self-contained SVG (title, labelled axes with ticks, legend), in the style of
/// `HistogramSVG`: memory-capacity curves, a readout's response over a trial against its target.
public enum LinePlotSVG {
    static let width = 960.0, height = 600.0
    static let left = 90.0, right = 30.0, bottom = 72.0

    public static func render(title: String, subtitle: String = "", xLabel: String, yLabel: String, series: [LineSeries],
                              yRange: ClosedRange<Double>? = nil) -> String {
        let xsAll = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ysAll = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        var x0 = xsAll.min() ?? 0, x1 = xsAll.max() ?? 1
        if x1 <= x0 { x1 = x0 + 1 }
        var y0 = yRange?.lowerBound ?? Swift.min(0, ysAll.min() ?? 0), y1 = yRange?.upperBound ?? (ysAll.max() ?? 1)
        if y1 <= y0 { y1 = y0 + 1 }
        let xt = HistogramSVG.niceTicks(x0, x1, target: 10), yt = HistogramSVG.niceTicks(y0, y1, target: 8)
        x0 = Swift.min(x0, xt.first!); x1 = Swift.max(x1, xt.last!)
        if yRange == nil { y0 = Swift.min(y0, yt.first!); y1 = Swift.max(y1, yt.last!) }
        let top = subtitle.isEmpty ? 60.0 : 80.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + ph - (Swift.min(y1, Swift.max(y0, y)) - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"30\" text-anchor=\"middle\" font-size=\"18\">\(HistogramSVG.esc(title))</text>\n"
        if !subtitle.isEmpty {
            s += "<text x=\"\(f(width / 2))\" y=\"54\" text-anchor=\"middle\" font-size=\"13\" fill=\"#555\">\(HistogramSVG.esc(subtitle))</text>\n"
        }
        for x in xt where x >= x0 && x <= x1 {
            s += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + ph))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(px(x)))\" y=\"\(f(top + ph + 20))\" text-anchor=\"middle\" font-size=\"12\">\(HistogramSVG.label(x))</text>\n"
        }
        for y in yt where y >= y0 && y <= y1 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(y)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\" font-size=\"12\">\(HistogramSVG.label(y))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 24))\" text-anchor=\"middle\" font-size=\"14\">\(HistogramSVG.esc(xLabel))</text>\n"
        s += "<text transform=\"translate(24 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">\(HistogramSVG.esc(yLabel))</text>\n"
        for l in series where !l.points.isEmpty {
            let d = l.points.filter { $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(l.color)\" stroke-width=\"2\"\(l.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(d)\"/>\n"
        }
        for (k, l) in series.enumerated() {
            let y = top + 14 + Double(k) * 20, x = left + pw - 250
            s += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 30))\" y2=\"\(f(y))\" stroke=\"\(l.color)\" stroke-width=\"2\"\(l.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            s += "<text x=\"\(f(x + 38))\" y=\"\(f(y + 4))\" font-size=\"12\">\(HistogramSVG.esc(l.label))</text>\n"
        }
        return s + "</svg>\n"
    }
}
