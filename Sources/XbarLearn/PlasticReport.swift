import Foundation
import XbarCore
import XbarGraph

/// The NALSM experiment's table (docs/experiment.md): accuracy mean +- std over seeds per learning variant and model,
/// the chip's branching factor, pulses, write energy and worn cells; as Markdown and as JSON.
public enum PlasticReport {
    static func rows(_ results: [PlasticResult]) -> [(LSMBuilder.NALSMLearning, ModelKind, [PlasticResult])] {
        var out: [(LSMBuilder.NALSMLearning, ModelKind, [PlasticResult])] = []
        for v in LSMBuilder.NALSMLearning.allCases {
            for m in [ModelKind.software, .chip] {
                let rs = results.filter { $0.variant == v && $0.model == m }
                if !rs.isEmpty { out.append((v, m, rs)) }
            }
        }
        return out
    }

    public static func table(_ results: [PlasticResult], header: String) -> String {
        var s = header + "\n\n| liquid | model | test accuracy (%) | seeds | branching factor | pulses (learning run) | write energy (uJ) | worn cells | spikes/sample |\n"
        s += "|---|---|---|---|---|---|---|---|---|\n"
        for (v, m, rs) in rows(results) {
            let acc = Experiment.meanStd(rs.map { 100 * $0.testAccuracy })
            let bf = rs.compactMap(\.branchingFactor)
            let b = bf.isEmpty ? "-" : String(format: "%.3f +- %.3f", Experiment.meanStd(bf).mean, Experiment.meanStd(bf).std)
            let chip = m == .chip && v != .lsm
            s += String(format: "| %@ | %@ | %.2f +- %.2f | %d | %@ | %@ | %@ | %@ | %.0f |\n", v.rawValue, m.rawValue, acc.mean, acc.std, rs.count, b,
                        chip ? String(format: "%.0f", Experiment.meanStd(rs.map { Double($0.pulses) }).mean) : "-",
                        chip ? String(format: "%.3g", Experiment.meanStd(rs.map { $0.writeEnergyPJ * 1e-6 }).mean) : "-",
                        chip ? "\(rs.map(\.wornCells).reduce(0, +))" : "-", Experiment.meanStd(rs.map(\.meanSpikesPerSample)).mean)
        }
        return s
    }

    public static func json(_ results: [PlasticResult], meta: [(String, JSONValue)]) -> JSONValue {
        .object(meta + [("results", .array(results.map { r in
            .object([("variant", .string(r.variant.rawValue)), ("model", .string(r.model.rawValue)), ("seed", .int(Int64(r.seed))),
                     ("test_accuracy", .double(r.testAccuracy)), ("validation_accuracy", .double(r.validationAccuracy)),
                     ("branching_factor", r.branchingFactor.map { $0.isFinite ? .double($0) : .null } ?? .null),
                     ("pulses", .int(r.pulses)), ("write_energy_pj", .double(r.writeEnergyPJ)), ("worn_cells", .int(r.wornCells)),
                     ("max_writes_per_cell", .int(Int64(r.maxWrites))), ("spikes_per_sample", .double(r.meanSpikesPerSample)),
                     ("seconds", .double(r.seconds))])
        }))])
    }
}
