import Foundation

/// One panel of a spike raster: a sample's populations stacked (first on top), and what its readout decided.
public struct RasterPanel: Sendable {
    /// One population: its name, size and spikes (step, neuron).
    public struct Group: Sendable {
        public var name: String
        public var size: Int
        public var spikes: [(step: Int, neuron: Int)]
        public init(name: String, size: Int, spikes: [(step: Int, neuron: Int)]) {
            self.name = name
            self.size = size
            self.spikes = spikes
        }
    }
    /// A readout's decision: its per-class values, the chosen class and the true label when known.
    public struct Decision: Sendable {
        public var readout: String
        public var values: [Double]
        public var predicted: Int?
        public var label: Int?
        public init(readout: String, values: [Double], predicted: Int?, label: Int?) {
            self.readout = readout
            self.values = values
            self.predicted = predicted
            self.label = label
        }
    }
    public var title: String
    public var steps: Int
    public var groups: [Group]
    public var decision: Decision?
    public init(title: String, steps: Int, groups: [Group], decision: Decision?) {
        self.title = title
        self.steps = steps
        self.groups = groups
        self.decision = decision
    }
}

/// Writes spike rasters as a self-contained SVG, one panel per sample stacked vertically: each population a band
/// (height in proportion to its size, at least 24 px), one mark per spike at (step, neuron), and beside the raster the
/// readout's per-class values as bars with the predicted class filled and the true label named.
public enum RasterPlotSVG {
    static let width = 960.0, left = 110.0, right = 190.0, panelTop = 34.0, panelBottom = 40.0
    /// The palette of the populations (and of `xbar`'s membrane lines).
    public static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    public static func render(title: String, panels: [RasterPanel]) -> String {
        let heights = panels.map { panelHeight($0) }
        let total = 50 + heights.reduce(0, +)
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(total))\" viewBox=\"0 0 \(Int(width)) \(Int(total))\" font-family=\"sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"30\" text-anchor=\"middle\" font-size=\"18\">\(HistogramSVG.esc(title))</text>\n"
        var y = 50.0
        for (p, h) in zip(panels, heights) {
            s += panel(p, top: y, height: h)
            y += h
        }
        return s + "</svg>\n"
    }

    static func bandHeights(_ p: RasterPanel) -> [Double] {
        p.groups.map { Swift.max(24, Swift.min(400, Double($0.size) * 2)) }
    }

    static func panelHeight(_ p: RasterPanel) -> Double {
        panelTop + bandHeights(p).reduce(0, +) + panelBottom
    }

    static func panel(_ p: RasterPanel, top: Double, height: Double) -> String {
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let pw = width - left - right
        let steps = Swift.max(p.steps, 1)
        let bands = bandHeights(p)
        let y0 = top + panelTop
        var s = "<text x=\"\(f(left))\" y=\"\(f(top + 22))\" font-size=\"14\">\(HistogramSVG.esc(p.title))</text>\n"
        var y = y0
        for (g, (grp, bh)) in zip(p.groups, bands).enumerated() {
            let color = colors[g % colors.count]
            s += "<rect x=\"\(f(left))\" y=\"\(f(y))\" width=\"\(f(pw))\" height=\"\(f(bh))\" fill=\"none\" stroke=\"#999\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + bh / 2 + 4))\" text-anchor=\"end\" font-size=\"12\">@\(HistogramSVG.esc(grp.name)) (\(grp.size))</text>\n"
            let dx = pw / Double(steps), dy = bh / Double(Swift.max(grp.size, 1))
            let w = Swift.max(dx * 0.8, 0.8), hh = Swift.max(dy * 0.8, 0.8)
            var marks = ""
            for x in grp.spikes {
                marks += "<rect x=\"\(f(left + Double(x.step) * dx))\" y=\"\(f(y + Double(x.neuron) * dy))\" width=\"\(f(w))\" height=\"\(f(hh))\"/>"
            }
            s += "<g fill=\"\(color)\">\(marks)</g>\n"
            s += "<text x=\"\(f(left + pw + 6))\" y=\"\(f(y + 14))\" font-size=\"11\" fill=\"#555\">\(grp.spikes.count) spikes</text>\n"
            y += bh
        }
        // Step axis.
        for t in HistogramSVG.niceTicks(0, Double(steps), target: 10) where t >= 0 && t <= Double(steps) {
            let x = left + t / Double(steps) * pw
            s += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x))\" y2=\"\(f(y + 5))\" stroke=\"#333\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(y + 18))\" text-anchor=\"middle\" font-size=\"11\">\(HistogramSVG.label(t))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(y + 33))\" text-anchor=\"middle\" font-size=\"12\">step</text>\n"
        if let d = p.decision { s += decision(d, x: left + pw + 70, top: y0) }
        return s
    }

    /// The readout's values as horizontal bars (predicted class filled), its decision and the label.
    static func decision(_ d: RasterPanel.Decision, x: Double, top: Double) -> String {
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let barW = 100.0, rowH = 14.0
        let lo = Swift.min(0, d.values.min() ?? 0), hi = Swift.max(0, d.values.max() ?? 0)
        let span = Swift.max(hi - lo, 1e-12)
        var s = "<text x=\"\(f(x - 40))\" y=\"\(f(top + 32))\" font-size=\"11\">@\(HistogramSVG.esc(d.readout))</text>\n"
        let zero = x + (0 - lo) / span * barW
        for (k, v) in d.values.enumerated() {
            let y = top + 40 + Double(k) * rowH
            let a = x + (Swift.min(v, 0) - lo) / span * barW, b = x + (Swift.max(v, 0) - lo) / span * barW
            let chosen = k == d.predicted
            s += "<text x=\"\(f(x - 6))\" y=\"\(f(y + 10))\" text-anchor=\"end\" font-size=\"10\">\(k)</text>"
            s += "<rect x=\"\(f(a))\" y=\"\(f(y + 2))\" width=\"\(f(Swift.max(b - a, 0.5)))\" height=\"\(f(rowH - 4))\" fill=\"\(chosen ? "#333" : "#ccc")\"/>\n"
        }
        s += "<line x1=\"\(f(zero))\" y1=\"\(f(top + 40))\" x2=\"\(f(zero))\" y2=\"\(f(top + 40 + Double(d.values.count) * rowH))\" stroke=\"#333\"/>\n"
        var verdict = "decision \(d.predicted.map(String.init) ?? "-")"
        if let l = d.label { verdict += ", label \(l)" + (d.predicted == l ? " (right)" : " (wrong)") }
        s += "<text x=\"\(f(x - 40))\" y=\"\(f(top + 52 + Double(d.values.count) * rowH))\" font-size=\"11\">\(HistogramSVG.esc(verdict))</text>\n"
        return s
    }
}
