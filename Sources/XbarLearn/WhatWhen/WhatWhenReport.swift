import Foundation
import XbarCore
import XbarDevice

/// The what-and-when experiment's table, JSON and response plot (docs/experiment.md, "What and when").
public enum WhatWhenReport {
    /// Pearson correlation (nan when either side is constant).
    public static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(max(1, x.count))
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }

    /// Per model: the correlation of the learned magnitude with the true probability of each channel (A: p(A), B:
    /// 1 - p(A)), over all seeds and levels.
    static func correlations(_ rs: [WhatWhenResult]) -> (a: Double, b: Double) {
        (correlation(rs.map(\.pA), rs.map { $0.learned.magnitude[0] }), correlation(rs.map { 1 - $0.pA }, rs.map { $0.learned.magnitude[1] }))
    }

    public static func table(_ results: [WhatWhenResult], header: String) -> String {
        var s = header + "\n\n| model | p(A) | timing error A (steps) | timing error B (steps) | magnitude A | magnitude B | seeds |\n|---|---|---|---|---|---|---|\n"
        let models = [ModelKind.software, .chip].filter { m in results.contains { $0.model == m } }
        for m in models {
            for p in Array(Set(results.map(\.pA))).sorted() {
                let rs = results.filter { $0.model == m && $0.pA == p }
                let ta = Experiment.meanStd(rs.map { Double($0.learned.timingError[0]) }), tb = Experiment.meanStd(rs.map { Double($0.learned.timingError[1]) })
                let ma = Experiment.meanStd(rs.map { $0.learned.magnitude[0] }), mb = Experiment.meanStd(rs.map { $0.learned.magnitude[1] })
                s += String(format: "| %@ | %.2f | %.1f +- %.1f | %.1f +- %.1f | %.3f +- %.3f | %.3f +- %.3f | %d |\n", m.rawValue, p, ta.mean, ta.std,
                            tb.mean, tb.std, ma.mean, ma.std, mb.mean, mb.std, rs.count)
            }
        }
        s += "\n| model | magnitude vs probability: r (A) | r (B) | after the switch of t_A: timing error A | trials to recover | pulses (all runs) | write energy (uJ) | worn cells | most writes on a cell |\n|---|---|---|---|---|---|---|---|---|\n"
        for m in models {
            let rs = results.filter { $0.model == m }
            let c = correlations(rs)
            let sw = rs.filter { $0.switched != nil }
            let te = Experiment.meanStd(sw.map { Double($0.switched!.timingError[0]) })
            let rec = sw.compactMap(\.trialsToRecover).map(Double.init)
            let recS = rec.isEmpty ? "-" : String(format: "%.1f +- %.1f (%d of %d runs)", Experiment.meanStd(rec).mean, Experiment.meanStd(rec).std, rec.count, sw.count)
            let chip = m == .chip
            s += String(format: "| %@ | %.3f | %.3f | %.1f +- %.1f | %@ | %@ | %@ | %@ | %@ |\n", m.rawValue, c.a, c.b, te.mean, te.std, recS,
                        chip ? String(format: "%.0f", Experiment.meanStd(rs.map { Double($0.pulses) }).mean) : "-",
                        chip ? String(format: "%.3g", Experiment.meanStd(rs.map { $0.writeEnergyPJ * 1e-6 }).mean) : "-",
                        chip ? "\(rs.map(\.wornCells).reduce(0, +))" : "-", chip ? "\(rs.map(\.maxWrites).max() ?? 0)" : "-")
        }
        return s
    }

    static func responseJSON(_ r: WhatWhenResponse) -> JSONValue {
        .object([("response", .array(r.response.map { .array($0.map { .double($0) }) })),
                 ("expectation", .array(r.expectation.map { .array($0.map { .double($0) }) })),
                 ("timing_error", .array(r.timingError.map { .int(Int64($0)) })), ("magnitude", .array(r.magnitude.map { .double($0) }))])
    }

    public static func json(_ results: [WhatWhenResult], meta: [(String, JSONValue)]) -> JSONValue {
        .object(meta + [("results", .array(results.map { r in
            .object([("model", .string(r.model.rawValue)), ("seed", .int(Int64(r.seed))), ("p_a", .double(r.pA)),
                     ("learned", responseJSON(r.learned)), ("switched", r.switched.map(responseJSON) ?? .null),
                     ("trial_errors", .array(r.trialErrors.map { .double($0) })),
                     ("trials_to_recover", r.trialsToRecover.map { .int(Int64($0)) } ?? .null),
                     ("pulses", .int(r.pulses)), ("write_energy_pj", .double(r.writeEnergyPJ)), ("worn_cells", .int(r.wornCells)),
                     ("max_writes_per_cell", .int(Int64(r.maxWrites))), ("seconds", .double(r.seconds))])
        }))])
    }

    /// The readout's response over a trial (mean over seeds) against the expectation, software and chip, for p(A) = `pA`.
    public static func responseSVG(_ results: [WhatWhenResult], pA: Double, subtitle: String) -> String {
        var series: [LineSeries] = []
        let colors = ["#1f77b4", "#d62728"]
        for c in 0..<2 {
            if let first = results.first(where: { $0.pA == pA }) {
                let expected: [Double] = first.learned.expectation[c]
                series.append(LineSeries(label: "target \(WhatWhenNetwork.channelNames[c]) (expectation)", points: expected.enumerated().map { (Double($0.offset), $0.element) },
                                         color: c == 0 ? "#9ecae1" : "#fcae91"))
            }
            for m in [ModelKind.software, .chip] {
                let rs = results.filter { $0.model == m && $0.pA == pA }
                guard let n = rs.first?.learned.response[c].count else { continue }
                let mean = (0..<n).map { t in rs.reduce(0) { $0 + $1.learned.response[c][t] } / Double(rs.count) }
                series.append(LineSeries(label: "readout \(WhatWhenNetwork.channelNames[c]) \(m.rawValue)", points: mean.enumerated().map { (Double($0.offset), $0.element) },
                                         color: colors[c], dashed: m == .chip))
            }
        }
        return LinePlotSVG.render(title: String(format: "Learned readout response to the cue alone, p(A) = %.2f", pA), subtitle: subtitle,
                                  xLabel: "step after the cue onset (ms)", yLabel: "spikes per readout neuron per step", series: series)
    }
}
