import Foundation

/// One data series of a histogram plot.
public struct HistogramSeries: Sendable {
    /// Legend text.
    public var label: String
    public var values: [Double]
    /// CSS colour of the outline and its light fill.
    public var color: String
    public init(label: String, values: [Double], color: String) {
        self.label = label
        self.values = values
        self.color = color
    }
}

/// Counts of values in equal-width bins [lo + k w, lo + (k+1) w); the last bin also holds `hi`.
public struct Histogram: Equatable, Sendable {
    public var lo: Double
    public var width: Double
    public var counts: [Int]

    public init(values: [Double], lo: Double, hi: Double, bins: Int) {
        self.lo = lo
        let n = Swift.max(1, bins)
        width = hi > lo ? (hi - lo) / Double(n) : 1
        counts = [Int](repeating: 0, count: n)
        for v in values where v.isFinite {
            let k = Int(((v - lo) / width).rounded(.down))
            counts[Swift.min(n - 1, Swift.max(0, k))] += 1
        }
    }
}

/// Writes overlaid step-outline histograms as a self-contained SVG: title, labelled axes with ticks, legend.
/// When one or two bins tower over the rest (for example the unformed cells of a forming target), the y axis is
/// cut so the remaining shape stays visible, and each cut bin is labelled with its count.
public enum HistogramSVG {
    static let width = 960.0, height = 600.0
    static let left = 90.0, right = 30.0, bottom = 72.0

    /// The SVG text. `xLabel` names the x quantity with its unit; every series shares one set of bins spanning
    /// all values.
    public static func render(title: String, subtitle: String = "", xLabel: String, series: [HistogramSeries],
                              bins: Int = 120) -> String {
        let all = series.flatMap { $0.values }.filter { $0.isFinite }
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if lo >= 0 && lo < 0.15 * (hi - lo) { lo = 0 }  // start at 0 when the data nearly does
        if hi <= lo { hi = lo + 1 }
        let xs = niceTicks(lo, hi, target: 8)
        lo = Swift.min(lo, xs.first!)
        hi = Swift.max(hi, xs.last!)
        // Bin width: a round number (1, 2, 2.5 or 5 x 10^k) giving about `bins` bins that tile [lo, hi] exactly.
        let raw = (hi - lo) / Double(Swift.max(1, bins))
        let mag = pow(10, log10(raw).rounded(.down))
        let nb = [1.0, 2, 2.5, 5, 10, 20].map { $0 * mag }.filter { $0 >= raw * 0.999 }.map { (hi - lo) / $0 }
            .first { abs($0 - $0.rounded()) < 1e-6 }.map { Int($0.rounded()) } ?? bins
        let hists = series.map { Histogram(values: $0.values, lo: lo, hi: hi, bins: nb) }

        // y range: the largest count, unless the top two bins of some series dwarf the rest.
        let peak = hists.flatMap { $0.counts }.max() ?? 1
        let rest = hists.map { h -> Int in
            var c = h.counts
            for _ in 0..<2 { if let m = c.indices.max(by: { c[$0] < c[$1] }) { c[m] = 0 } }
            return c.max() ?? 0
        }.max() ?? 0
        let clipped = rest > 0 && Double(peak) > 2.5 * Double(rest)
        let yData = Double(clipped ? rest : peak) * (clipped ? 1.25 : 1.05)
        let ys = niceTicks(0, Swift.max(1, yData), target: 6)
        let yMax = ys.last!

        let top = 70 + 22 * Double(series.count)
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - lo) / (hi - lo) * pw }
        func py(_ y: Double) -> Double { top + ph - Swift.min(y, yMax) / yMax * ph }

        var o = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="white"/>
        <text x="\(f(width / 2))" y="30" font-size="19" font-weight="bold" text-anchor="middle">\(esc(title))</text>

        """
        if !subtitle.isEmpty {
            o += "<text x=\"\(f(width / 2))\" y=\"52\" font-size=\"13\" fill=\"#444\" text-anchor=\"middle\">\(esc(subtitle))</text>\n"
        }
        // Grid and ticks.
        o += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for y in ys { o += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(y)))\"/>\n" }
        for x in xs { o += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + ph))\"/>\n" }
        o += "</g>\n<g font-size=\"13\" fill=\"#222\">\n"
        for y in ys {
            o += "<text x=\"\(f(left - 8))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(label(y))</text>\n"
        }
        for x in xs {
            o += "<text x=\"\(f(px(x)))\" y=\"\(f(top + ph + 20))\" text-anchor=\"middle\">\(label(x))</text>\n"
        }
        o += "</g>\n"
        let binW = hists.first?.width ?? 1
        o += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 22))\" font-size=\"15\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        o += "<text transform=\"translate(24 \(f(top + ph / 2))) rotate(-90)\" font-size=\"15\" text-anchor=\"middle\">cells per bin (bin width \(esc(label(binW, digits: 3))) \(esc(unit(xLabel))))</text>\n"

        // Series: light fill under a step outline.
        for (s, h) in zip(series, hists) {
            var d = "M\(f(px(lo))),\(f(py(0)))"
            for (k, c) in h.counts.enumerated() {
                let x0 = px(lo + Double(k) * h.width), x1 = px(lo + Double(k + 1) * h.width)
                d += " L\(f(x0)),\(f(py(Double(c)))) L\(f(x1)),\(f(py(Double(c))))"
            }
            d += " L\(f(px(hi))),\(f(py(0))) Z"
            o += "<path d=\"\(d)\" fill=\"\(esc(s.color))\" fill-opacity=\"0.14\" stroke=\"\(esc(s.color))\" stroke-width=\"1.8\" stroke-linejoin=\"miter\"/>\n"
        }
        // Cut bins: a label with the true count above each.
        if clipped {
            var placed: [Double] = []
            for (s, h) in zip(series, hists) {
                for (k, c) in h.counts.enumerated() where Double(c) > yMax {
                    let x = px(lo + (Double(k) + 0.5) * h.width)
                    var y = top + 14
                    while placed.contains(where: { abs($0 - y) < 1 }) { y += 15 }
                    placed.append(y)
                    let anchor = x > left + pw - 90 ? "end" : "start"
                    o += "<text x=\"\(f(x + (anchor == "end" ? -6 : 6)))\" y=\"\(f(y))\" font-size=\"12\" fill=\"\(esc(s.color))\" text-anchor=\"\(anchor)\">\u{2191} \(label(Double(c))) cells in \(label(lo + Double(k) * h.width))\u{2013}\(label(lo + Double(k + 1) * h.width)) \(esc(unit(xLabel))) (axis cut)</text>\n"
                }
            }
        }
        // Axes frame.
        o += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#222\" stroke-width=\"1\"/>\n"
        // Legend: one row per series between the subtitle and the plot, so it never hides data.
        for (i, s) in series.enumerated() {
            let y = 70 + 22 * Double(i)
            o += "<rect x=\"\(f(left))\" y=\"\(f(y - 7))\" width=\"28\" height=\"14\" fill=\"\(esc(s.color))\" fill-opacity=\"0.14\" stroke=\"\(esc(s.color))\" stroke-width=\"1.8\"/>\n"
            o += "<text x=\"\(f(left + 36))\" y=\"\(f(y + 5))\" font-size=\"13\">\(esc(s.label))</text>\n"
        }
        o += "</svg>\n"
        return o
    }

    /// About `target` round tick values (steps of 1, 2 or 5 x 10^k) covering [lo, hi].
    public static func niceTicks(_ lo: Double, _ hi: Double, target: Int) -> [Double] {
        let span = Swift.max(hi - lo, 1e-12)
        let raw = span / Double(Swift.max(1, target))
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let a = (lo / step).rounded(.down), b = (hi / step).rounded(.up)
        return stride(from: a, through: b, by: 1).map { $0 * step }
    }

    static func f(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func label(_ x: Double, digits: Int = 6) -> String {
        if x == 0 { return "0" }
        if abs(x) >= 10000 && x == x.rounded() {
            // Thin-space thousands separators for counts.
            let s = String(Int(x))
            var out = ""
            for (i, ch) in s.reversed().enumerated() {
                if i > 0 && i % 3 == 0 { out.append("\u{2009}") }
                out.append(ch)
            }
            return String(out.reversed())
        }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (x * p).rounded() / p
        if r == r.rounded() { return String(Int(r)) }
        var s = String(r)
        if s.contains("e") { s = String(x) }
        return s
    }

    static func unit(_ xLabel: String) -> String {
        guard let a = xLabel.lastIndex(of: "("), let b = xLabel.lastIndex(of: ")"), a < b else { return "" }
        return String(xLabel[xLabel.index(after: a)..<b])
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
