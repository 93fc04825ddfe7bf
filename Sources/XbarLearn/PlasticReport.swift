import Foundation
import XbarCore
import XbarEmulator
import XbarGraph
import XbarTarget

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

/// What a learning run cost the chip: pulses, their write energy (pulses x `cell_write_pj` + pair reads x
/// `verify_pj`), cells written more often than the device's endurance, and the largest write count of a cell.
public struct LearningWear: Sendable, Equatable {
    public var pulses: Int64 = 0
    public var writeEnergyPJ: Double = 0
    public var wornCells: Int64 = 0
    public var maxWrites: UInt32 = 0

    public init() {}

    /// The wear of a run's learning counters and the chip state it left.
    public init(_ l: LearningCounters, state: ChipState?, target t: Target) {
        pulses = l.pulses
        writeEnergyPJ = Double(l.pulses) * t.energy.cellWritePJ + Double(l.verifyReads) * t.energy.verifyPJ
        let endurance = t.device.update?.enduranceCycles
        for w in state?.writes.compactMap({ $0 }) ?? [] {
            for x in w {
                maxWrites = max(maxWrites, x)
                if let e = endurance, x > e { wornCells += 1 }
            }
        }
    }
}

/// Writes an experiment's outputs into a folder (created if needed), each file atomically: `results.md` (the
/// printed table), `results.json`, and any extra named files (plots).
public enum ExperimentOutput {
    public static func write(to dir: String, table: String, json: JSONValue, extra: [(name: String, text: String)] = []) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(table, to: (dir as NSString).appendingPathComponent("results.md"))
        try AtomicFile.write(json.serialized() + "\n", to: (dir as NSString).appendingPathComponent("results.json"))
        for f in extra { try AtomicFile.write(f.text, to: (dir as NSString).appendingPathComponent(f.name)) }
    }
}
