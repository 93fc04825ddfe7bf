import Foundation
import TOMLKit
import XbarCore
import XbarTarget

/// One value of a swept parameter, typed as in TOML.
public enum SweepValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var json: JSONValue {
        switch self {
        case let .int(i): return .int(Int64(i))
        case let .double(d): return .double(d)
        case let .string(s): return .string(s)
        case let .bool(b): return .bool(b)
        }
    }

    var toml: TOMLValueConvertible {
        switch self {
        case let .int(i): return i
        case let .double(d): return d
        case let .string(s): return s
        case let .bool(b): return b
        }
    }

    public var number: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    public var description: String { json.serialized(indent: nil) }

    static func from(_ v: TOMLValueConvertible) -> SweepValue? {
        if let i = v.int { return .int(i) }
        if let d = v.double { return d.isFinite ? .double(d) : nil }
        if let s = v.string { return .string(s) }
        if let b = v.bool { return .bool(b) }
        return nil
    }

    /// `v` rounded to 12 significant digits, so 0.1 + 2 x 0.1 is written 0.3.
    static func tidy(_ v: Double) -> Double {
        guard v.isFinite, v != 0 else { return v }
        return Double(String(format: "%.12g", v)) ?? v
    }
}

/// What a sweep reports per point. Each metric writes one or more columns (docs/sweep.md).
public enum Metric: String, CaseIterable, Sendable {
    case accuracy
    case energyPerSample = "energy_per_sample"
    case latency
    case topsPerW = "tops_per_w"
    case area
    case ops

    /// Result columns, the first one being the metric's main figure.
    public var columns: [String] {
        switch self {
        case .accuracy: return ["accuracy"]
        case .energyPerSample: return ["energy_per_sample_pj"]
        case .latency: return ["latency_s", "latency_cycles"]
        case .topsPerW: return ["tops_per_w", "dense_tops_per_w"]
        case .area: return ["area_mm2"]
        case .ops: return ["ops_per_sample", "dense_ops_per_sample"]
        }
    }

    /// Every column any metric writes, with whether larger is better.
    public static let columnDirections: [String: Bool] = [
        "accuracy": true, "energy_per_sample_pj": false, "latency_s": false, "latency_cycles": false,
        "tops_per_w": true, "dense_tops_per_w": true, "area_mm2": false, "ops_per_sample": false, "dense_ops_per_sample": false,
    ]

    /// A metric or column name -> its column (`energy_per_sample` -> `energy_per_sample_pj`).
    public static func column(_ name: String) -> String? {
        if let m = Metric(rawValue: name) { return m.columns[0] }
        return columnDirections[name] != nil ? name : nil
    }

    /// Human label with unit, for plots.
    public static func label(_ column: String) -> String {
        switch column {
        case "accuracy": return "accuracy"
        case "energy_per_sample_pj": return "energy per sample (pJ)"
        case "latency_s": return "latency per sample (s)"
        case "latency_cycles": return "latency per sample (cycles)"
        case "tops_per_w": return "TOPS/W (event-driven)"
        case "dense_tops_per_w": return "TOPS/W (dense equivalent)"
        case "area_mm2": return "area (mm²)"
        case "ops_per_sample": return "ops per sample (event-driven)"
        case "dense_ops_per_sample": return "ops per sample (dense)"
        default: return column
        }
    }
}

/// A swept parameter: a dotted name, where it was written, and its values.
public struct Axis: Sendable {
    public enum Scope: Sendable, Equatable { case target, compile, workload }
    public enum Domain: Sendable, Equatable {
        /// Explicit values (a list, or a range with step, factor or count).
        case values([SweepValue])
        /// A continuous interval, sampled by `random` and `lhs` (integers when both bounds are TOML integers).
        case interval(lo: Double, hi: Double, integer: Bool, log: Bool)
    }

    public var name: String
    public var line: Int
    public var scope: Scope
    public var domain: Domain

    /// Path below the scope (`adc.bits` for a target axis, `seed` for `compile.seed`).
    public var path: [String] {
        let p = name.split(separator: ".").map(String.init)
        return scope == .target ? p : Array(p.dropFirst())
    }
}

/// How a sweep picks its points: full grid, seeded random, or Latin hypercube.
public enum SamplingMethod: String, CaseIterable, Sendable {
    case grid, random, lhs
}

/// The workload a sweep evaluates.
public struct WorkloadSpec: Sendable {
    public enum Kind: String, CaseIterable, Sendable { case graph, experiment }
    public var kind: Kind
    /// graph: the graph JSON; experiment: a graph JSON used instead of the `lsm` preset.
    public var graphPath: String?
    /// graph: the event file (default: the graph's example_input).
    public var inputPath: String?
    /// experiment: `paper` or `nalsm` when no graph is given.
    public var lsm: String?
    /// experiment: `digits`, `digits-rate` or an N-MNIST folder.
    public var data: String?
    /// experiment: the digits CSV.
    public var digitsCSV: String?
    /// Numeric/string parameters (samples, train_max, gains, ...), fixed values; axes override them per point.
    public var params: [String: SweepValue] = [:]
}

/// A parsed and validated sweep specification (docs/sweep.md).
public struct SweepSpec: Sendable {
    public var path: String
    public var name: String
    public var seed: UInt64
    public var metrics: [Metric]
    public var output: String?
    public var targetName: String
    /// The base target with the spec's [overrides] applied, as canonical TOML text.
    public var baseTOML: String
    public var base: Target
    public var workload: WorkloadSpec
    public var compileSeed: UInt64?
    public var replicateMacros: Bool
    public var sampling: SamplingMethod
    public var points: Int?
    public var samplingSeed: UInt64
    public var axes: [Axis]
    /// SHA-256 of everything fixed in the sweep (target, workload and its files' contents, compile options, seed,
    /// metrics): with a point's axis values it makes the point's key.
    public var fingerprint: String

    let text: SpecText

    public var directory: String { (path as NSString).deletingLastPathComponent }

    func fail(_ path: [String], _ message: String) -> XbarError {
        if let l = text.line(path) { return XbarError(file: self.path, field: "line \(l)", message) }
        return XbarError(file: self.path, field: path.joined(separator: "."), message)
    }
}

/// Where the sweep finds targets, the paper-LSM defaults and the digits CSV (set by the CLI).
public struct SweepEnvironment: Sendable {
    public var targetSearchDirs: [String]
    public var paper = PaperDefaults()
    public var digitsCSV: String? = nil

    /// The paper LSM's weight gains used by `xbar experiment --config paper`.
    public struct PaperDefaults: Sendable {
        public var inputGain = 1.0
        public var recurrentGain = 0.5
        public var inputDensity = 1.0
        public var recurrentDensity = 1.0
        public init() {}
    }

    public init(targetSearchDirs: [String]) { self.targetSearchDirs = targetSearchDirs }
}

/// Reads sweep specs: every problem is refused before any point runs, naming the spec's line.
public enum SweepSpecLoader {
    static let sections: Set<String> = ["sweep", "base", "overrides", "workload", "compile", "sampling", "axes"]

    /// Sweepable workload parameters: kind -> name -> (validator description, check).
    struct Param: Sendable {
        var kind: String
        var check: @Sendable (SweepValue) -> String?
    }

    static func intParam(_ lo: Int, _ hi: Int) -> Param {
        Param(kind: "an integer in \(lo)...\(hi)") { v in
            guard case let .int(i) = v else { return "expected an integer" }
            return i >= lo && i <= hi ? nil : "\(i) out of range \(lo)...\(hi)"
        }
    }

    static func doubleParam(_ lo: Double, _ hi: Double, openLow: Bool = false, openHigh: Bool = false) -> Param {
        Param(kind: "a number") { v in
            guard let d = v.number else { return "expected a number" }
            let okLo = openLow ? d > lo : d >= lo, okHi = openHigh ? d < hi : d <= hi
            return okLo && okHi ? nil : "\(d) out of range \(openLow ? "(" : "[")\(lo), \(hi)\(openHigh ? ")" : "]")"
        }
    }

    static func enumParam(_ values: [String]) -> Param {
        Param(kind: "one of \(values.joined(separator: ", "))") { v in
            guard case let .string(s) = v, values.contains(s) else { return "expected one of \(values.joined(separator: ", "))" }
            return nil
        }
    }

    static let boolParam = Param(kind: "true or false") { v in
        if case .bool = v { return nil }
        return "expected true or false"
    }

    static let workloadParams: [WorkloadSpec.Kind: [String: Param]] = [
        .graph: ["samples": intParam(1, 10_000_000), "engine": enumParam(["fast", "exact", "cycle"])],
        .experiment: [
            "train_max": intParam(1, 10_000_000), "test_max": intParam(1, 10_000_000), "timesteps": intParam(1, 10_000),
            "input_gain": doubleParam(0, 1e6, openLow: true), "recurrent_gain": doubleParam(0, 1e6),
            "input_density": doubleParam(0, 1, openLow: true), "recurrent_density": doubleParam(0, 1, openLow: true),
            "validation_fraction": doubleParam(0, 1, openLow: true, openHigh: true), "validation_seed": intParam(0, Int(Int32.max)),
            "saccade_seed": intParam(0, Int(Int32.max)), "split_seed": intParam(0, Int(Int32.max)),
        ],
    ]
    static let workloadStrings: [WorkloadSpec.Kind: Set<String>] = [
        .graph: ["kind", "graph", "input"],
        .experiment: ["kind", "lsm", "graph", "data", "digits_csv"],
    ]
    static let compileParams: [String: Param] = ["seed": intParam(0, Int(Int64.max)), "replicate_macros": boolParam]

    public static func load(_ path: String, environment env: SweepEnvironment) throws -> SweepSpec {
        try parse(try AtomicFile.readText(path), path: path, environment: env)
    }

    public static func parse(_ source: String, path: String, environment env: SweepEnvironment) throws -> SweepSpec {
        // Sections are read (and their errors raised) in file-format order: [sweep], [base] and [overrides],
        // [workload], [compile], [sampling], [axes].
        let r = try SweepSpecReader(source, path: path, environment: env)
        let sweep = try r.sweepSection()
        let base = try r.baseSection()
        let workload = try r.workloadSection()
        let compile = try r.compileSection()
        let sampling = try r.samplingSection(seed: sweep.seed)
        let axes = try r.axesSection(method: sampling.method, baseTOML: base.toml, workload: workload)
        try r.checkAccuracyInput(metrics: sweep.metrics, workload: workload)
        let fingerprint = try r.fingerprint(baseTOML: base.toml, workload: workload, compileSeed: compile.seed,
                                            replicate: compile.replicate, seed: sweep.seed, metrics: sweep.metrics)
        return SweepSpec(path: path, name: sweep.name, seed: sweep.seed, metrics: sweep.metrics, output: sweep.output,
                         targetName: base.name, baseTOML: base.toml, base: base.target, workload: workload.spec,
                         compileSeed: compile.seed, replicateMacros: compile.replicate, sampling: sampling.method,
                         points: sampling.points, samplingSeed: sampling.seed, axes: axes, fingerprint: fingerprint, text: r.text)
    }

    /// Names and sizes of an N-MNIST folder's files (contents are too large to hash per run).
    static func folderDigest(_ root: String) throws -> String {
        var h = SHA256()
        let e = FileManager.default.enumerator(atPath: root)
        var items: [String] = []
        while let f = e?.nextObject() as? String {
            let full = (root as NSString).appendingPathComponent(f)
            let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? 0
            items.append("\(f)\t\(size)")
        }
        for i in items.sorted() { h.update(i + "\n") }
        return SHA256.hex(h.finalize())  // digest of the running digest (the key format of sweep files)
    }

    /// Leaf values of a table, depth first. With `stopAtRanges`, an inline table with `from`/`to` is a leaf.
    static func leaves(_ t: TOMLTable, prefix: [String], stopAtRanges: Bool = false,
                       _ body: ([String], TOMLValueConvertible) throws -> Void) throws {
        for k in t.keys.sorted() {
            let v = t[k]!
            // A quoted key with dots ("adc.bits") is the same path as the dotted key adc.bits.
            let parts = k.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if let sub = v.table, !(stopAtRanges && (sub.contains(key: "from") || sub.contains(key: "to"))) {
                try leaves(sub, prefix: prefix + parts, stopAtRanges: stopAtRanges, body)
            } else {
                try body(prefix + parts, v)
            }
        }
    }

    /// A list, or a range table `{from, to, step | factor | count, scale}`.
    static func parseDomain(_ v: TOMLValueConvertible, bad: (String) -> XbarError) throws -> Axis.Domain {
        if let a = v.array {
            var vals: [SweepValue] = []
            for x in a {
                guard let sv = SweepValue.from(x) else { throw bad("list values must be numbers, strings or booleans") }
                vals.append(sv)
            }
            guard !vals.isEmpty else { throw bad("empty list") }
            let kinds = Set(vals.map { v -> Int in
                switch v { case .int: return 0; case .double: return 1; case .string: return 2; case .bool: return 3 }
            })
            guard kinds.count == 1 || kinds == [0, 1] else { throw bad("list mixes types (\(vals.map(\.description).joined(separator: ", ")))") }
            if kinds == [0, 1] { vals = vals.map { .double($0.number!) } }
            guard Set(vals).count == vals.count else { throw bad("list repeats a value") }
            return .values(vals)
        }
        guard let t = v.table else { throw bad("expected a list [a, b, ...] or a range {from = A, to = B, step|factor|count = ...}") }
        for k in t.keys.sorted() where !["from", "to", "step", "factor", "count", "scale"].contains(k) {
            throw bad("unknown range key \"\(k)\" (expected from, to, and one of step, factor, count; optional scale = \"log\")")
        }
        guard let fv = t["from"], let tv = t["to"] else { throw bad("a range needs both from and to") }
        guard let lo = fv.int.map(Double.init) ?? fv.double, let hi = tv.int.map(Double.init) ?? tv.double, lo.isFinite, hi.isFinite else {
            throw bad("range from and to must be numbers")
        }
        let integer = fv.int != nil && tv.int != nil
        guard lo <= hi else { throw bad("range from (\(lo)) is greater than to (\(hi))") }
        var log = false
        if let s = t["scale"] {
            guard let ss = s.string, ss == "log" || ss == "linear" else { throw bad("scale must be \"linear\" or \"log\"") }
            log = ss == "log"
        }
        if log { guard lo > 0 else { throw bad("a log range needs from > 0") } }
        let given = ["step", "factor", "count"].filter { t.contains(key: $0) }
        guard given.count <= 1 else { throw bad("give only one of step, factor, count") }
        func num(_ k: String) throws -> Double {
            guard let x = t[k]!.int.map(Double.init) ?? t[k]!.double, x.isFinite else { throw bad("\(k) must be a number") }
            return x
        }
        func make(_ xs: [Double]) -> Axis.Domain {
            var out: [SweepValue] = []
            for x in xs {
                let v: SweepValue = integer ? .int(Int(x.rounded())) : .double(SweepValue.tidy(x))
                if !out.contains(v) { out.append(v) }
            }
            return .values(out)
        }
        let limit = 1_000_000
        switch given.first {
        case nil:
            return .interval(lo: lo, hi: hi, integer: integer, log: log)
        case "step":
            guard !log else { throw bad("step makes a linear range; use factor or count with scale = \"log\"") }
            let s = try num("step")
            guard s > 0 else { throw bad("step must be > 0") }
            if integer && t["step"]!.int == nil { throw bad("an integer range needs an integer step") }
            let n = Int(((hi - lo) / s * (1 + 1e-12)).rounded(.down)) + 1
            guard n <= limit else { throw bad("range has \(n) values (at most \(limit))") }
            return make((0..<n).map { lo + Double($0) * s })
        case "factor":
            let f = try num("factor")
            guard lo > 0, f > 1 else { throw bad("a factor range needs from > 0 and factor > 1") }
            var xs: [Double] = []
            var x = lo
            while x <= hi * (1 + 1e-12) && xs.count <= limit { xs.append(x); x *= f }
            return make(xs)
        default:
            guard let n = t["count"]!.int else { throw bad("count must be an integer") }
            guard n >= 1 && n <= limit else { throw bad("count must be in 1...\(limit)") }
            if n == 1 {
                guard lo == hi else { throw bad("count = 1 needs from == to") }
                return make([lo])
            }
            return make((0..<n).map { i in
                let u = Double(i) / Double(n - 1)
                return log ? lo * Foundation.pow(hi / lo, u) : lo + (hi - lo) * u
            })
        }
    }
}
