import Foundation
import XbarCore

/// `xbar sweep merge`: joins shard files into one, checking the plan is covered exactly once.
public enum SweepMerge {
    public struct Report: Sendable {
        public var rows: Int
        public var files: Int
        public var description: String { "merged \(rows) points from \(files) file\(files == 1 ? "" : "s")" }
    }

    /// The default shard file names of an output: `NAME.shard-I-of-N.EXT`.
    public static func shardPath(_ output: String, _ s: Shard) -> String {
        guard s.count > 1 else { return output }
        let ext = (output as NSString).pathExtension
        let stem = (output as NSString).deletingPathExtension
        return "\(stem).shard-\(s.index)-of-\(s.count)" + (ext.isEmpty ? "" : ".\(ext)")
    }

    /// Shard files of `output` present on disk, for every shard count found (sorted).
    public static func findShards(_ output: String) -> [String] {
        let dir = (output as NSString).deletingLastPathComponent
        let stem = ((output as NSString).lastPathComponent as NSString).deletingPathExtension
        let ext = (output as NSString).pathExtension
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        return names.filter { n in
            guard n.hasPrefix(stem + ".shard-"), ext.isEmpty || n.hasSuffix("." + ext) else { return false }
            return true
        }.sorted().map { dir.isEmpty ? $0 : (dir as NSString).appendingPathComponent($0) }
    }

    static func stripped(_ r: ResultRow, format: ResultFormat) -> String {
        switch format {
        case .jsonl: return r.deterministicText
        case .csv: return r.deterministicText + ","
        }
    }

    public static func merge(plan: SweepPlan, inputs: [String], output: String, stripTiming: Bool) throws -> Report {
        guard !inputs.isEmpty else { throw XbarError(file: output, field: "", "no shard files to merge (give them, or run the shards first)") }
        let format = ResultFormat.of(output)
        var byKey: [String: (file: String, row: ResultRow)] = [:]
        var problems: [String] = []
        var header: [String]? = nil
        for f in inputs {
            guard ResultFormat.of(f) == format else {
                throw XbarError(file: f, field: "", "is \(ResultFormat.of(f).rawValue), the output \(output) is \(format.rawValue)")
            }
            let s = try ResultsFile.read(f)
            if let t = s.torn.first {
                problems.append("\(f): line \(t.line) is \(t.reason): that shard did not finish cleanly; run it again to repair and complete it")
            }
            if format == .csv {
                if header == nil { header = s.header } else if s.header != header { problems.append("\(f): CSV header differs from \(inputs[0])") }
            }
            for r in s.rows {
                if let prev = byKey[r.key] {
                    problems.append("point \(r.key) is duplicated: \(prev.file) line \(prev.row.lineNumber) and \(f) line \(r.lineNumber)")
                } else {
                    byKey[r.key] = (f, r)
                }
            }
        }
        let planKeys = Set(plan.points.map(\.key))
        for (k, v) in byKey.sorted(by: { $0.key < $1.key }) where !planKeys.contains(k) {
            problems.append("\(v.file) line \(v.row.lineNumber): point \(k) is not in the plan of \(plan.spec.path)")
        }
        let missing = plan.points.filter { byKey[$0.key] == nil }
        if !missing.isEmpty {
            let list = missing.prefix(10).map { "#\($0.index) \(SweepPlan.assignment(spec: plan.spec, values: $0.values).serialized(indent: nil))" }
            problems.append("\(missing.count) of \(plan.points.count) points missing: " + list.joined(separator: "; ") + (missing.count > 10 ? "; ..." : ""))
        }
        if !problems.isEmpty {
            let shown = problems.prefix(20).joined(separator: "\n  ")
            throw XbarError(file: output, field: "merge", "\(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing written:\n  \(shown)")
        }
        var text = ""
        if format == .csv, let h = header { text += h.map { CSV.field(.string($0)) }.joined(separator: ",") + "\n" }
        for p in plan.points {
            let r = byKey[p.key]!.row
            text += (stripTiming ? stripped(r, format: format) : r.line) + "\n"
        }
        try AtomicFile.write(text, to: output)
        return Report(rows: plan.points.count, files: inputs.count)
    }
}

/// `xbar sweep compare`: two results files hold the same points with the same values (wall-clock time ignored).
public enum SweepCompare {
    public struct Report: Sendable {
        public var same: Int
        public var onlyA: [String]
        public var onlyB: [String]
        public var differing: [(key: String, a: String, b: String)]
        public var equal: Bool { onlyA.isEmpty && onlyB.isEmpty && differing.isEmpty }
    }

    public static func compare(_ a: String, _ b: String) throws -> Report {
        let ra = try ResultsFile.read(a), rb = try ResultsFile.read(b)
        if let t = ra.torn.first { throw XbarError(file: a, field: "line \(t.line)", "is \(t.reason)") }
        if let t = rb.torn.first { throw XbarError(file: b, field: "line \(t.line)", "is \(t.reason)") }
        let ma = Dictionary(ra.rows.map { ($0.key, $0.deterministicText) }, uniquingKeysWith: { x, _ in x })
        let mb = Dictionary(rb.rows.map { ($0.key, $0.deterministicText) }, uniquingKeysWith: { x, _ in x })
        var rep = Report(same: 0, onlyA: [], onlyB: [], differing: [])
        for (k, v) in ma.sorted(by: { $0.key < $1.key }) {
            guard let w = mb[k] else { rep.onlyA.append(k); continue }
            if v == w { rep.same += 1 } else { rep.differing.append((k, v, w)) }
        }
        rep.onlyB = mb.keys.filter { ma[$0] == nil }.sorted()
        if ra.rows.count != ma.count { rep.onlyA.append("(\(ra.rows.count - ma.count) duplicate rows in \(a))") }
        if rb.rows.count != mb.count { rep.onlyB.append("(\(rb.rows.count - mb.count) duplicate rows in \(b))") }
        return rep
    }
}

/// `xbar sweep pareto`: the non-dominated points over chosen metric columns.
public enum SweepPareto {
    public struct Objective: Sendable, Equatable {
        public var column: String
        public var maximise: Bool
        public init(column: String, maximise: Bool) {
            self.column = column
            self.maximise = maximise
        }
    }

    /// Parses `accuracy,energy_per_sample:min` (direction defaults to the metric's natural one).
    public static func objectives(_ s: String) throws -> [Objective] {
        var out: [Objective] = []
        for part in s.split(separator: ",") {
            let bits = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let col = Metric.column(bits[0]) else {
                throw XbarError(file: "<command line>", field: "--metrics",
                                "unknown metric \"\(bits[0])\" (metrics: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")); columns: \(Metric.columnDirections.keys.sorted().joined(separator: ", ")))")
            }
            var maxi = Metric.columnDirections[col]!
            if bits.count > 1 {
                guard bits.count == 2, bits[1] == "min" || bits[1] == "max" else {
                    throw XbarError(file: "<command line>", field: "--metrics", "\"\(part)\": direction must be :min or :max")
                }
                maxi = bits[1] == "max"
            }
            out.append(Objective(column: col, maximise: maxi))
        }
        guard out.count >= 1 else { throw XbarError(file: "<command line>", field: "--metrics", "give at least one metric") }
        return out
    }

    /// Rows that no other row dominates (no worse in every objective, better in one). Rows with an error or a
    /// missing value are left out. Sorted by the first objective, best first.
    public static func front(_ rows: [ResultRow], _ obj: [Objective]) throws -> [ResultRow] {
        if let r = rows.first(where: { $0.error == nil }) {
            for o in obj where r.value(o.column) == nil {
                throw XbarError(file: "<results>", field: o.column, "not in the results (the sweep's metrics: \(r.metricNames.joined(separator: ", ")))")
            }
        }
        let usable = rows.compactMap { r -> (ResultRow, [Double])? in
            guard r.error == nil else { return nil }
            var v: [Double] = []
            for o in obj {
                guard let x = r.value(o.column)?.doubleValue, x.isFinite else { return nil }
                v.append(o.maximise ? -x : x)  // minimise everything
            }
            return (r, v)
        }
        let sorted = usable.sorted { a, b in
            for i in a.1.indices where a.1[i] != b.1[i] { return a.1[i] < b.1[i] }
            return a.0.key < b.0.key
        }
        var front: [(ResultRow, [Double])] = []
        for c in sorted {
            let dominated = front.contains { f in
                zip(f.1, c.1).allSatisfy { $0 <= $1 } && zip(f.1, c.1).contains { $0 < $1 }
            }
            let equal = front.contains { $0.1 == c.1 }
            if !dominated && !equal { front.append(c) }
        }
        return front.map(\.0)
    }
}

/// `xbar sweep plot`: one scatter plot as SVG, with the Pareto front drawn over it.
public enum SweepPlot {
    public struct Options: Sendable {
        public var x: String
        public var y: String
        public var color: String?
        public var logX: Bool?
        public var logY: Bool?
        public var title: String?
        public var front = true
        public init(x: String, y: String) {
            self.x = x
            self.y = y
        }
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Viridis, 9 stops.
    static let ramp: [(Double, Double, Double)] = [(68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140),
                                                  (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)]

    static func rampColor(_ t: Double) -> String {
        let u = min(1, max(0, t)) * Double(ramp.count - 1)
        let i = min(ramp.count - 2, Int(u))
        let f = u - Double(i)
        let c = (0..<3).map { k -> Int in
            let a = [ramp[i].0, ramp[i].1, ramp[i].2][k], b = [ramp[i + 1].0, ramp[i + 1].1, ramp[i + 1].2][k]
            return Int((a + (b - a) * f).rounded())
        }
        return String(format: "#%02x%02x%02x", c[0], c[1], c[2])
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func fmt(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 {
            let s = String(format: "%.3g", v)
            return s.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+", with: "e")
        }
        var s = String(format: "%.4g", v)
        if s.contains("e") { s = String(format: "%.0f", v) }
        if s.contains(".") && !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// Tick values: "nice" steps for a linear axis, decades (with 2 and 5 when few) for a log axis.
    static func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        if log {
            let a = Int(Foundation.floor(Foundation.log10(lo))), b = Int(Foundation.ceil(Foundation.log10(hi)))
            var t: [Double] = []
            let mult: [Double] = b - a <= 2 ? [1, 2, 5] : [1]
            for e in a...b { for m in mult { let v = m * Foundation.pow(10, Double(e)); if v >= lo * 0.999 && v <= hi * 1.001 { t.append(v) } } }
            return t.isEmpty ? [lo, hi] : t
        }
        let span = hi - lo
        let raw = span / 6
        let mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { span / $0 <= 7 } ?? 10 * mag
        var t: [Double] = []
        var v = Foundation.ceil(lo / step - 1e-9) * step
        while v <= hi + step * 1e-9 { t.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return t
    }

    public static func svg(_ rows: [ResultRow], _ o: Options, source: String) throws -> String {
        guard let xc = Metric.column(o.x) ?? (rows.first?.axisNames.contains(o.x) == true ? o.x : nil) else {
            throw XbarError(file: "<command line>", field: "--x", "\"\(o.x)\" is neither a metric nor an axis of \(source)")
        }
        guard let yc = Metric.column(o.y) ?? (rows.first?.axisNames.contains(o.y) == true ? o.y : nil) else {
            throw XbarError(file: "<command line>", field: "--y", "\"\(o.y)\" is neither a metric nor an axis of \(source)")
        }
        if let c = o.color, rows.first?.value(c) == nil {
            throw XbarError(file: "<command line>", field: "--color",
                            "\"\(c)\" is not a column of \(source) (axes: \((rows.first?.axisNames ?? []).joined(separator: ", ")))")
        }
        let pts = rows.compactMap { r -> (ResultRow, Double, Double)? in
            guard r.error == nil, let x = r.value(xc)?.doubleValue, let y = r.value(yc)?.doubleValue, x.isFinite, y.isFinite else { return nil }
            return (r, x, y)
        }
        guard !pts.isEmpty else { throw XbarError(file: source, field: "", "no finished point has both \(xc) and \(yc)") }
        let xs = pts.map(\.1), ys = pts.map(\.2)
        func wantsLog(_ v: [Double], _ given: Bool?) -> Bool {
            if let g = given { return g && v.allSatisfy { $0 > 0 } }
            guard let mn = v.min(), let mx = v.max(), mn > 0 else { return false }
            return mx / mn >= 100
        }
        let lx = wantsLog(xs, o.logX), ly = wantsLog(ys, o.logY)
        func range(_ v: [Double], _ log: Bool) -> (Double, Double) {
            var lo = v.min()!, hi = v.max()!
            if log {
                if lo == hi { lo /= 2; hi *= 2 }
                let pad = Foundation.pow(hi / lo, 0.05)
                return (lo / pad, hi * pad)
            }
            if lo == hi { let d = lo == 0 ? 1 : abs(lo) * 0.1; lo -= d; hi += d }
            let pad = (hi - lo) * 0.05
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(xs, lx), (y0, y1) = range(ys, ly)
        let W = 860.0, H = 600.0, L = 90.0, R = o.color == nil ? 30.0 : 190.0, T = 60.0, B = 70.0
        let pw = W - L - R, ph = H - T - B
        func px(_ v: Double) -> Double {
            lx ? L + pw * (Foundation.log10(v / x0) / Foundation.log10(x1 / x0)) : L + pw * (v - x0) / (x1 - x0)
        }
        func py(_ v: Double) -> Double {
            ly ? T + ph * (1 - Foundation.log10(v / y0) / Foundation.log10(y1 / y0)) : T + ph * (1 - (v - y0) / (y1 - y0))
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" viewBox=\"0 0 \(Int(W)) \(Int(H))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        let title = o.title ?? "\(Metric.label(yc)) vs \(Metric.label(xc))" + (o.color.map { ", colour: \($0)" } ?? "")
        s += "<text x=\"\(L)\" y=\"28\" font-size=\"18\" font-weight=\"bold\">\(esc(title))</text>\n"
        s += "<text x=\"\(L)\" y=\"46\" font-size=\"12\" fill=\"#555\">\(esc("\(pts.count) points from \(source)" + (o.front ? "; line: Pareto front" : "")))</text>\n"
        // Grid and ticks.
        for t in ticks(x0, x1, log: lx) {
            let x = px(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", x, T, x, T + ph)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%@</text>\n", x, T + ph + 18, fmt(t))
        }
        for t in ticks(y0, y1, log: ly) {
            let y = py(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", L, y, L + pw, y)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%@</text>\n", L - 6, y + 4, fmt(t))
        }
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n", L, T, pw, ph)
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\">%@</text>\n", L + pw / 2, H - 22,
                    esc(Metric.label(xc) + (lx ? " — log scale" : "")))
        s += String(format: "<text transform=\"translate(22,%.1f) rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">%@</text>\n",
                    T + ph / 2, esc(Metric.label(yc) + (ly ? " — log scale" : "")))
        // Colours.
        var colorOf: (ResultRow) -> String = { _ in "#1f77b4" }
        var legend = ""
        if let c = o.color {
            let vals = pts.map { $0.0.value(c) ?? .null }
            let distinct = vals.reduce(into: [JSONValue]()) { acc, v in if !acc.contains(v) { acc.append(v) } }
            let numeric = distinct.allSatisfy { $0.doubleValue != nil }
            let lxL = L + pw + 20
            if distinct.count <= palette.count {
                let order = numeric ? distinct.sorted { $0.doubleValue! < $1.doubleValue! } : distinct.sorted { $0.serialized(indent: nil) < $1.serialized(indent: nil) }
                colorOf = { r in palette[order.firstIndex(of: r.value(c) ?? .null) ?? 0] }
                legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">%@</text>\n", lxL, T + 4, esc(c))
                for (i, v) in order.enumerated() {
                    let y = T + 24 + Double(i) * 20
                    let label: String = { if case let .string(t) = v { return t }; return v.doubleValue.map(fmt) ?? v.serialized(indent: nil) }()
                    legend += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%@\"/>\n", lxL + 6, y - 4, palette[i])
                    legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>\n", lxL + 18, y, esc(label))
                }
            } else if numeric {
                let nums = distinct.map { $0.doubleValue! }
                let lo = nums.min()!, hi = nums.max()!
                let logC = lo > 0 && hi / lo >= 100
                func t(_ v: Double) -> Double { hi == lo ? 0.5 : (logC ? Foundation.log(v / lo) / Foundation.log(hi / lo) : (v - lo) / (hi - lo)) }
                colorOf = { r in rampColor(t(r.value(c)?.doubleValue ?? lo)) }
                legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">%@</text>\n", lxL, T + 4, esc(c))
                let barH = min(ph - 30, 300.0)
                legend += "<defs><linearGradient id=\"ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
                for (i, _) in ramp.enumerated() {
                    legend += "<stop offset=\"\(fmt(Double(i) / Double(ramp.count - 1)))\" stop-color=\"\(rampColor(Double(i) / Double(ramp.count - 1)))\"/>"
                }
                legend += "</linearGradient></defs>\n"
                legend += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"%.1f\" fill=\"url(#ramp)\" stroke=\"#333\"/>\n", lxL, T + 16, barH)
                legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>\n", lxL + 24, T + 26, fmt(hi))
                legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>\n", lxL + 24, T + 16 + barH, fmt(lo))
                if logC { legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">log scale</text>\n", lxL + 24, T + 16 + barH / 2) }
            } else {
                let order = distinct.sorted { $0.serialized(indent: nil) < $1.serialized(indent: nil) }
                colorOf = { r in rampColor(Double(order.firstIndex(of: r.value(c) ?? .null) ?? 0) / Double(max(1, order.count - 1))) }
                legend += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">%@ (%d values)</text>\n", lxL, T + 4, esc(c), order.count)
            }
        }
        // Pareto front of (x, y) with each column's natural direction (axes: minimised).
        if o.front && pts.count > 1 {
            let objs = [SweepPareto.Objective(column: xc, maximise: Metric.columnDirections[xc] ?? false),
                        SweepPareto.Objective(column: yc, maximise: Metric.columnDirections[yc] ?? false)]
            let f = try SweepPareto.front(pts.map(\.0), objs).compactMap { r in pts.first { $0.0.key == r.key } }.sorted { $0.1 < $1.1 }
            if f.count > 1 {
                let d = f.map { String(format: "%.1f,%.1f", px($0.1), py($0.2)) }.joined(separator: " ")
                s += "<polyline points=\"\(d)\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"6,3\" opacity=\"0.8\"/>\n"
            }
            for p in f {
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\"/>\n", px(p.1), py(p.2))
            }
        }
        for (r, x, y) in pts {
            let tip = r.axisNames.map { "\($0) = \(r.value($0).map { $0.serialized(indent: nil) } ?? "?")" }.joined(separator: ", ")
                + "; \(xc) = \(fmt(x)), \(yc) = \(fmt(y))"
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%@\" fill-opacity=\"0.85\" stroke=\"#222\" stroke-width=\"0.5\"><title>%@</title></circle>\n",
                        px(x), py(y), colorOf(r), esc(tip))
        }
        s += legend
        s += "</svg>\n"
        return s
    }
}
