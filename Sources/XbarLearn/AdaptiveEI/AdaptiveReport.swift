import Foundation
import XbarCore
import XbarDevice

/// The adaptive E/I experiment's table, JSON and memory-capacity plot (docs/experiment.md, "Adaptive E/I reservoir").
public enum AdaptiveReport {
    static let conditions = AdaptiveReservoir.Adaptation.allCases
    static let models: [ModelKind] = [.software, .chip]

    static func pick(_ rs: [AdaptiveEIResult], _ t: TimeSeriesTask, _ c: AdaptiveReservoir.Adaptation, _ m: ModelKind) -> [AdaptiveEIResult] {
        rs.filter { $0.task == t && $0.condition == c && $0.model == m }
    }

    /// Improvement of `adapted` over `global` in percent: MC ratio - 1, or NRMSE global / adapted - 1 (lower is better).
    public static func improvement(_ t: TimeSeriesTask, global: Double, adapted: Double) -> Double {
        t == .memory ? 100 * (adapted / global - 1) : 100 * (global / adapted - 1)
    }

    public static func table(_ results: [AdaptiveEIResult], header: String) -> String {
        var s = header + "\n\n| task (metric) | reservoir | model | score | g or target (chosen) | rate (spikes/step) | rate spread | improvement over global | pulses | write energy (nJ) | energy/step (nJ) |\n"
        s += "|---|---|---|---|---|---|---|---|---|---|---|\n"
        for t in TimeSeriesTask.allCases {
            for c in conditions {
                for m in models {
                    let rs = pick(results, t, c, m)
                    guard !rs.isEmpty else { continue }
                    let sc = Experiment.meanStd(rs.map(\.score))
                    let g = Experiment.meanStd(rs.map { $0.targetRate ?? $0.inhibition })
                    let base = pick(results, t, .none, m)
                    var imp = "-"
                    if c != .none, !base.isEmpty {
                        let v = Experiment.meanStd(zip(rs, base).map { improvement(t, global: $1.score, adapted: $0.score) })
                        imp = String(format: "%+.1f +- %.1f %%", v.mean, v.std)
                    }
                    let chip = m == .chip
                    s += String(format: "| %@ (%@) | %@ | %@ | %.4f +- %.4f | %@%.2f +- %.2f | %.3f | %.3f | %@ | %@ | %@ | %@ |\n",
                                t.rawValue, t == .memory ? "MC" : "NRMSE", c.rawValue, m.rawValue, sc.mean, sc.std, c == .none ? "g " : "target ", g.mean, g.std,
                                Experiment.meanStd(rs.map(\.meanRate)).mean, Experiment.meanStd(rs.map(\.rateSpread)).mean, imp,
                                chip && c != .none ? String(format: "%.0f", Experiment.meanStd(rs.map { Double($0.pulses) }).mean) : "-",
                                chip && c != .none ? String(format: "%.3g", Experiment.meanStd(rs.map { $0.writeEnergyPJ * 1e-3 }).mean) : "-",
                                chip ? String(format: "%.3g", Experiment.meanStd(rs.compactMap(\.energyPerStepPJ).map { $0 * 1e-3 }).mean) : "-")
                }
            }
        }
        return s
    }

    public static func json(_ results: [AdaptiveEIResult], meta: [(String, JSONValue)]) -> JSONValue {
        .object(meta + [("results", .array(results.map { r in
            .object([("task", .string(r.task.rawValue)), ("reservoir", .string(r.condition.rawValue)), ("model", .string(r.model.rawValue)),
                     ("seed", .int(Int64(r.seed))), ("metric", .string(r.task == .memory ? "memory_capacity" : "nrmse")),
                     ("score", .double(r.score)), ("inhibition", .double(r.inhibition)),
                     ("target_rate", r.targetRate.map { .double($0) } ?? .null),
                     ("sweep", .array(r.sweep.map { .object([(r.condition == .none ? "g" : "target_rate", .double($0.setting)), ("validation", .double($0.validation))]) })),
                     ("memory_curve", .array(r.curve.map { .double($0) })), ("mean_rate", .double(r.meanRate)),
                     ("rate_spread", .double(r.rateSpread)), ("pulses", .int(r.pulses)), ("write_energy_pj", .double(r.writeEnergyPJ)),
                     ("worn_cells", .int(r.wornCells)), ("max_writes_per_cell", .int(Int64(r.maxWrites))),
                     ("energy_per_step_pj", r.energyPerStepPJ.map { .double($0) } ?? .null),
                     ("dac_rows_per_step", .double(r.dacRowsPerStep)), ("seconds", .double(r.seconds))])
        }))])
    }

    /// Memory capacity r^2 vs delay, mean over seeds, per reservoir and model (software solid, chip dashed).
    public static func memorySVG(_ results: [AdaptiveEIResult], subtitle: String) -> String {
        let colors: [AdaptiveReservoir.Adaptation: String] = [.none: "#1f77b4", .homogeneous: "#2ca02c", .heterogeneous: "#d62728"]
        var series: [LineSeries] = []
        for c in conditions {
            for m in models {
                let rs = pick(results, .memory, c, m)
                guard let k = rs.first?.curve.count, k > 0 else { continue }
                let mean = (0..<k).map { d in rs.reduce(0) { $0 + $1.curve[d] } / Double(rs.count) }
                let mc = Experiment.meanStd(rs.map(\.score)).mean
                series.append(LineSeries(label: String(format: "%@ %@ (MC %.2f)", c.rawValue, m.rawValue, mc),
                                         points: mean.enumerated().map { (Double($0.offset + 1), $0.element) },
                                         color: colors[c]!, dashed: m == .chip))
            }
        }
        return LinePlotSVG.render(title: "Memory capacity of the spiking E/I reservoir", subtitle: subtitle, xLabel: "delay k (steps)",
                                  yLabel: "r^2 of the recalled input u(t - k)", series: series, yRange: 0...1)
    }
}
