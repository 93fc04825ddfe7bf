import Foundation
import XbarCore
import XbarEvents
import XbarGraph

/// Tables, JSON and CSV of an experiment (docs/experiment.md, "Outputs").
public enum ExperimentReport {
    public struct Meta: Sendable {
        public var command: String
        public var data: String
        public var config: String
        public var target: String
        public var graph: Graph
        public var trainSamples: Int
        public var testSamples: Int
        public var channels: Int
        public var timesteps: Int
        public var validationFraction: Double
        public var badFiles: Int

        public init(command: String, data: String, config: String, target: String, graph: Graph, set: LabelledSet,
                    validationFraction: Double, badFiles: Int) {
            self.command = command
            self.data = data
            self.config = config
            self.target = target
            self.graph = graph
            trainSamples = set.train.count
            testSamples = set.test.count
            channels = set.channels
            timesteps = set.timesteps
            self.validationFraction = validationFraction
            self.badFiles = badFiles
        }
    }

    /// Where energy and latency come from.
    public static let energyNote = "chip: action counts x the target's per-action energies + read physics, latency from its timing model (XbarCost, docs/energy.md); float models: ops per sample only"

    static func pct(_ v: Double) -> String { String(format: "%.2f", 100 * v) }

    static func summary(_ results: [ModelResult], _ kind: ModelKind) -> (acc: (Double, Double), other: (Double, Double), n: Int)? {
        let r = results.filter { $0.kind == kind }
        guard !r.isEmpty else { return nil }
        return (Experiment.meanStd(r.map(\.testAccuracy)), Experiment.meanStd(r.map(\.otherReadoutAccuracy)), r.count)
    }

    /// The human-readable table (Markdown).
    public static func table(meta m: Meta, results: [ModelResult], seconds: Double) -> String {
        var lines: [String] = []
        lines.append("experiment: \(m.config) on \(m.target), data \(m.data): \(m.trainSamples) train (\(Int((m.validationFraction * 100).rounded()))% of it validation) + \(m.testSamples) test samples, \(m.channels) channels x \(m.timesteps) steps")
        lines.append("")
        lines.append("| model | readout | test accuracy % (mean ± std) | other readout % | seeds |")
        lines.append("|---|---|---|---|---|")
        for kind in ModelKind.allCases {
            guard let s = summary(results, kind) else { continue }
            let (ro, other) = kind == .chip ? ("int8 on chip", "float on chip counts") : ("float", "int8")
            lines.append("| \(kind.rawValue) | \(ro) | \(pct(s.acc.0)) ± \(pct(s.acc.1)) | \(other): \(pct(s.other.0)) ± \(pct(s.other.1)) | \(s.n) |")
        }
        lines.append("")
        lines.append("per seed (test accuracy %):")
        let seeds = Array(Set(results.map(\.seed))).sorted()
        for s in seeds {
            let parts = ModelKind.allCases.compactMap { k in results.first { $0.kind == k && $0.seed == s }.map { "\(k.rawValue) \(pct($0.testAccuracy))" } }
            lines.append("  seed \(s): " + parts.joined(separator: ", "))
        }
        for kind in ModelKind.allCases {
            guard let r = results.first(where: { $0.kind == kind }) else { continue }
            let all = results.filter { $0.kind == kind }
            let ops = r.ops.values.map { name, _ -> String in
                let v = all.map { x in x.ops.values.first { $0.0 == name }?.1 ?? 0 }.reduce(0, +) / Double(all.count)
                return "\(name) \(String(format: "%.0f", v))"
            }
            let spikes = all.map(\.meanSpikesPerSample).reduce(0, +) / Double(all.count)
            lines.append("ops per sample, \(kind.rawValue): spikes \(String(format: "%.0f", spikes)), " + ops.joined(separator: ", "))
        }
        let chips = results.filter { $0.kind == .chip }
        if let e = chips.first?.energyPerSampleJ, e > 0 {
            let en = Experiment.meanStd(chips.compactMap(\.energyPerSampleJ))
            let la = Experiment.meanStd(chips.compactMap(\.latencyPerSampleS))
            lines.append(String(format: "energy per sample, chip: %.4g ± %.2g nJ; latency per sample: %.4g ± %.2g us", en.mean * 1e9, en.std * 1e9,
                                la.mean * 1e6, la.std * 1e6))
            let comp = chips[0].energyComponentsPJ.map { name, _ in
                "\(name) \(String(format: "%.3g", chips.map { c in c.energyComponentsPJ.first { $0.0 == name }?.1 ?? 0 }.reduce(0, +) / Double(chips.count) / 1000)) nJ"
            }
            lines.append("  by component: " + comp.joined(separator: ", "))
        } else {
            lines.append("energy / latency per sample: — (\(energyNote))")
        }
        if let c = results.last(where: { $0.kind == .chip }) ?? results.last {
            let k = c.confusion.count
            let sum = results.filter { $0.kind == c.kind }.reduce(into: [[Int]](repeating: [Int](repeating: 0, count: k), count: k)) { acc, r in
                for i in 0..<k { for j in 0..<k { acc[i][j] += r.confusion[i][j] } }
            }
            lines.append("")
            lines.append("confusion matrix, \(c.kind.rawValue), summed over seeds (rows: true label, columns: predicted):")
            lines.append("      " + (0..<k).map { String(format: "%5d", $0) }.joined())
            for i in 0..<k { lines.append(String(format: "%5d ", i) + sum[i].map { String(format: "%5d", $0) }.joined()) }
        }
        lines.append("")
        lines.append(String(format: "time: %.1f s", seconds))
        return lines.joined(separator: "\n")
    }

    static func result(_ r: ModelResult) -> JSONValue {
        .object([
            ("model", .string(r.kind.rawValue)), ("seed", .int(Int64(r.seed))),
            ("test_accuracy", .double(r.testAccuracy)),
            (r.kind == .chip ? "float_readout_test_accuracy" : "int8_readout_test_accuracy", .double(r.otherReadoutAccuracy)),
            ("validation_accuracy", .double(r.validationAccuracy)), ("train_accuracy", .double(r.trainAccuracy)),
            ("lambda", .double(r.lambda)),
            ("mean_spikes_per_sample", .double(r.meanSpikesPerSample)),
            ("ops_per_sample", .object(r.ops.values.map { ($0.0, .double($0.1)) })),
            ("energy_per_sample_j", r.energyPerSampleJ.map { .double($0) } ?? .null),
            ("latency_per_sample_s", r.latencyPerSampleS.map { .double($0) } ?? .null),
            ("energy_per_sample_pj_by_component", .object(r.energyComponentsPJ.map { ($0.0, .double($0.1)) })),
            ("confusion", .array(r.confusion.map { .array($0.map { .int(Int64($0)) }) })),
            ("seconds", .double(r.seconds)),
        ])
    }

    public static func json(meta m: Meta, results: [ModelResult], seconds: Double, final: Bool) -> JSONValue {
        var sums: [(String, JSONValue)] = []
        for kind in ModelKind.allCases {
            guard let s = summary(results, kind) else { continue }
            sums.append((kind.rawValue, .object([("test_accuracy_mean", .double(s.acc.0)), ("test_accuracy_std", .double(s.acc.1)),
                                                    ("seeds", .int(Int64(s.n)))])))
        }
        return .object([
            ("tool", .string("neuroxbar")), ("version", .string(toolVersion)), ("complete", .bool(final)),
            ("command", .string("xbar " + m.command)), ("data", .string(m.data)), ("config", .string(m.config)),
            ("target", .string(m.target)), ("graph", .string(m.graph.name)),
            ("train_samples", .int(Int64(m.trainSamples))), ("test_samples", .int(Int64(m.testSamples))),
            ("validation_fraction", .double(m.validationFraction)), ("bad_files_skipped", .int(Int64(m.badFiles))),
            ("channels", .int(Int64(m.channels))), ("timesteps", .int(Int64(m.timesteps))),
            ("energy_note", .string(energyNote)),
            ("summary", .object(sums)),
            ("results", .array(results.map(result))),
            ("seconds", .double(seconds)),
        ])
    }

    /// Writes results.json (atomically; `complete` false until the end), and at the end results.md and
    /// confusion-<model>.csv (summed over seeds).
    public static func write(meta: Meta, results: [ModelResult], seconds: Double, to dir: String, final: Bool) throws {
        func p(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        try AtomicFile.write(json(meta: meta, results: results, seconds: seconds, final: final).serialized() + "\n", to: p("results.json"))
        guard final else { return }
        try AtomicFile.write(table(meta: meta, results: results, seconds: seconds) + "\n", to: p("results.md"))
        for kind in ModelKind.allCases {
            let rs = results.filter { $0.kind == kind }
            guard let k = rs.first?.confusion.count else { continue }
            var csv = "true\\predicted," + (0..<k).map(String.init).joined(separator: ",") + "\n"
            for i in 0..<k {
                csv += "\(i)," + (0..<k).map { j in String(rs.reduce(0) { $0 + $1.confusion[i][j] }) }.joined(separator: ",") + "\n"
            }
            try AtomicFile.write(csv, to: p("confusion-\(kind.rawValue).csv"))
        }
    }

    /// FNV-1a 64 of the recordings' names and encoded bytes (canonical order): a fingerprint of a converted set.
    public static func digest(_ recs: [LabelledRecording]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func eat(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for r in LabelledSet.canonicalOrder(recs) {
            for b in r.name.utf8 { eat(b) }
            for b in NMNIST.encode(r.events) { eat(b) }
        }
        return h
    }
}
