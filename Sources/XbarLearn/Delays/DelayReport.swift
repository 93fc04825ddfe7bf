import Foundation
import XbarCore
import XbarDevice

/// The heterogeneous-delay experiment's table, JSON and accuracy-vs-pruning plot (docs/experiment.md,
/// "Heterogeneous delays").
public enum DelayReport {
    static let models: [ModelKind] = [.software, .chip]

    static func pick(_ rs: [DelayResult], _ d: DelayDataset, _ pruned: Double, _ m: ModelKind) -> [DelayResult] {
        rs.filter { $0.dataset == d && $0.pruned == pruned && $0.model == m }
    }

    static func metric(_ d: DelayDataset) -> String { d == .motifs ? "motifs detected at their end step" : "direction accuracy" }

    public static func table(_ results: [DelayResult], spec: DelaySpec, header: String) -> String {
        var s = header + "\n"
        for d in DelayDataset.allCases where results.contains(where: { $0.dataset == d }) {
            s += d == .motifs
                ? String(format: "\nSpiking motifs: %d channels, %d motifs, delays 0 ... %d, %d-step trials, %d train / %d test trials\n",
                         spec.motifs.channels, spec.motifs.motifs, spec.motifs.delays - 1, spec.motifs.steps, spec.motifTrain, spec.motifTest)
                : String(format: "\nMoving textures: %d x %d pixels x 2 polarities, %d directions, %d steps, delays 0 ... %d, %d train / %d test samples\n",
                         spec.textures.side, spec.textures.side, spec.textures.directions, spec.textures.steps, spec.textureDelays - 1,
                         spec.textureTrain, spec.textureTest)
            s += "\n| pruned | weights kept | model | \(metric(d)) % | precision % | rows placed | arrays | rows driven/step | energy/sample (nJ) |\n"
            s += "|---|---|---|---|---|---|---|---|---|\n"
            for p in spec.pruning {
                for m in models {
                    let rs = pick(results, d, p, m)
                    guard !rs.isEmpty else { continue }
                    let sc = Experiment.meanStd(rs.map { 100 * $0.score })
                    let pr = rs.compactMap(\.precision).map { 100 * $0 }
                    let chip = m == .chip
                    func mean(_ v: [Double]) -> String { v.isEmpty ? "-" : String(format: "%.4g", Experiment.meanStd(v).mean) }
                    s += String(format: "| %.1f %% | %.0f | %@ | %.2f +- %.2f | %@ | %@ | %@ | %@ | %@ |\n",
                                100 * p, Experiment.meanStd(rs.map { Double($0.weights) }).mean, m.rawValue, sc.mean, sc.std,
                                pr.isEmpty ? "-" : String(format: "%.2f +- %.2f", Experiment.meanStd(pr).mean, Experiment.meanStd(pr).std),
                                chip ? mean(rs.compactMap(\.rows).map(Double.init)) : "-", chip ? mean(rs.compactMap(\.arrays).map(Double.init)) : "-",
                                chip ? mean(rs.compactMap(\.rowsDrivenPerStep)) : "-",
                                chip ? mean(rs.compactMap(\.energyPerSamplePJ).map { $0 * 1e-3 }) : "-")
                }
            }
        }
        return s
    }

    public static func json(_ results: [DelayResult], meta: [(String, JSONValue)]) -> JSONValue {
        func opt(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
        return .object(meta + [("results", .array(results.map { r in
            .object([("dataset", .string(r.dataset.rawValue)), ("seed", .int(Int64(r.seed))), ("pruned", .double(r.pruned)),
                     ("model", .string(r.model.rawValue)), ("metric", .string(r.dataset == .motifs ? "hit_rate" : "accuracy")),
                     ("score", .double(r.score)), ("precision", opt(r.precision)), ("weights", .int(Int64(r.weights))),
                     ("rows", r.rows.map { .int(Int64($0)) } ?? .null), ("arrays", r.arrays.map { .int(Int64($0)) } ?? .null),
                     ("rows_driven_per_step", opt(r.rowsDrivenPerStep)), ("energy_per_sample_pj", opt(r.energyPerSamplePJ)),
                     ("seconds", .double(r.seconds))])
        }))])
    }

    /// Score vs log10(1 / fraction of weights kept), mean over seeds, per data set and model (software solid, chip dashed).
    public static func pruningSVG(_ results: [DelayResult], subtitle: String) -> String {
        let colors: [DelayDataset: String] = [.motifs: "#1f77b4", .textures: "#d62728"]
        var series: [LineSeries] = []
        for d in DelayDataset.allCases {
            for m in models {
                let fractions = Array(Set(results.filter { $0.dataset == d && $0.model == m }.map(\.pruned))).sorted()
                guard !fractions.isEmpty else { continue }
                let points = fractions.map { p in
                    (-log10(max(1e-6, 1 - p)), 100 * Experiment.meanStd(pick(results, d, p, m).map(\.score)).mean)
                }
                series.append(LineSeries(label: "\(d.rawValue) \(m.rawValue)", points: points, color: colors[d]!, dashed: m == .chip))
            }
        }
        return LinePlotSVG.render(title: "Heterogeneous-delay detectors vs pruning", subtitle: subtitle,
                                  xLabel: "log10(1 / fraction of weights kept)   (1 = 90 % pruned, 2 = 99 %)",
                                  yLabel: "motifs detected / direction accuracy (%)", series: series, yRange: 0...100)
    }
}
