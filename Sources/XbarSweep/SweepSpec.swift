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
        let text = SpecText(source)
        func fail(_ p: [String], _ m: String) -> XbarError {
            if let l = text.line(p) { return XbarError(file: path, field: "line \(l)", m) }
            return XbarError(file: path, field: p.joined(separator: "."), m)
        }
        let root = try TOMLText.parse(source, file: path)
        for k in root.keys.sorted() where !sections.contains(k) {
            throw fail([k], "unknown section [\(k)] (expected one of: \(sections.sorted().joined(separator: ", ")))")
        }
        func table(_ k: String, required: Bool) throws -> TOMLTable? {
            guard let v = root[k] else {
                if required { throw XbarError(file: path, field: "[\(k)]", "missing (required)") }
                return nil
            }
            guard let t = v.table else { throw fail([k], "\(k) must be a table [\(k)]") }
            return t
        }
        func onlyKeys(_ t: TOMLTable, _ section: String, _ allowed: Set<String>) throws {
            for k in t.keys.sorted() where !allowed.contains(k) {
                throw fail([section, k], "\(section).\(k): unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        func int(_ t: TOMLTable, _ section: String, _ k: String, min: Int, max: Int) throws -> Int? {
            guard let v = t[k] else { return nil }
            guard let i = v.int else { throw fail([section, k], "\(section).\(k): expected an integer") }
            guard i >= min && i <= max else { throw fail([section, k], "\(section).\(k): \(i) out of range \(min)...\(max)") }
            return i
        }
        func string(_ t: TOMLTable, _ section: String, _ k: String) throws -> String? {
            guard let v = t[k] else { return nil }
            guard let s = v.string else { throw fail([section, k], "\(section).\(k): expected a string") }
            return s
        }
        let dir = (path as NSString).deletingLastPathComponent
        func relative(_ p: String) -> String {
            p.hasPrefix("/") ? p : ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(p)
        }

        // [sweep]
        let sw = try table("sweep", required: true)!
        try onlyKeys(sw, "sweep", ["name", "seed", "metrics", "output"])
        let name = try string(sw, "sweep", "name") ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let seed = UInt64(try int(sw, "sweep", "seed", min: 0, max: Int.max) ?? 1)
        guard let mv = sw["metrics"] else { throw fail(["sweep"], "sweep.metrics: missing (required), e.g. [\"energy_per_sample\", \"accuracy\"]") }
        guard let ma = mv.array else { throw fail(["sweep", "metrics"], "sweep.metrics: expected an array of metric names") }
        var metrics: [Metric] = []
        for v in ma {
            guard let s = v.string else { throw fail(["sweep", "metrics"], "sweep.metrics: expected an array of metric names") }
            guard let m = Metric(rawValue: s) else {
                throw fail(["sweep", "metrics"], "sweep.metrics: unknown metric \"\(s)\" (expected one of: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !metrics.contains(m) { metrics.append(m) }
        }
        guard !metrics.isEmpty else { throw fail(["sweep", "metrics"], "sweep.metrics: give at least one metric") }
        let output = try string(sw, "sweep", "output").map(relative)

        // [base] and [overrides]
        let bs = try table("base", required: true)!
        try onlyKeys(bs, "base", ["target"])
        guard let tref = try string(bs, "base", "target") else { throw fail(["base"], "base.target: missing (required): a target name or a .toml path") }
        let targetPath: String
        if tref.hasSuffix(".toml") || tref.contains("/") {
            targetPath = relative(tref)
        } else {
            guard let p = env.targetSearchDirs.map({ ($0 as NSString).appendingPathComponent(tref + ".toml") })
                .first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw fail(["base", "target"], "base.target: no target \"\(tref)\" (looked in \(env.targetSearchDirs.joined(separator: ", ")))")
            }
            targetPath = p
        }
        guard let baseText = try? AtomicFile.readText(targetPath) else {
            throw fail(["base", "target"], "base.target: cannot read \(targetPath)")
        }
        let baseTable: TOMLTable
        do {
            baseTable = try TOMLText.parse(baseText, file: targetPath)
            _ = try TargetLoader.parse(baseText, file: targetPath)
        } catch let e as XbarError {
            throw fail(["base", "target"], "base.target: \(e.description)")
        } catch {
            throw fail(["base", "target"], "base.target: \(targetPath): TOML syntax error")
        }
        var overrides: [(path: [String], value: SweepValue, line: [String])] = []
        if let ov = try table("overrides", required: false) {
            try leaves(ov, prefix: []) { p, v in
                guard let value = SweepValue.from(v) else {
                    throw fail(["overrides"] + p, "overrides.\(p.joined(separator: ".")): expected a number, string or boolean")
                }
                guard TargetOverride.tables.contains(p[0]) else {
                    throw fail(["overrides"] + p, "overrides.\(p.joined(separator: ".")): not a target parameter (tables: \(TargetOverride.tables.sorted().joined(separator: ", ")); compile and workload settings go in [compile] and [workload])")
                }
                overrides.append((p, value, ["overrides"] + p))
            }
            for o in overrides {
                do { try TargetOverride.set(baseTable, o.path, o.value.toml) } catch let m as TargetOverride.Failure {
                    throw fail(o.line, "overrides.\(o.path.joined(separator: ".")): \(m.message)")
                }
            }
        }
        let baseTOML = baseTable.convert(to: .toml)
        let base: Target
        do {
            base = try TargetLoader.parse(baseTOML, file: targetPath)
        } catch let e as XbarError {
            let hit = overrides.first { e.field == $0.path.joined(separator: ".") || e.field.hasPrefix($0.path.joined(separator: ".") + ".") }
                ?? overrides.first { e.field.hasPrefix($0.path[0]) }
            throw fail(hit?.line ?? ["overrides"], "overrides: target \(tref): \(e.field): \(e.message)")
        }

        // [workload]
        let wl = try table("workload", required: true)!
        guard let kindName = try string(wl, "workload", "kind") else {
            throw fail(["workload"], "workload.kind: missing (required): \"graph\" or \"experiment\"")
        }
        guard let kind = WorkloadSpec.Kind(rawValue: kindName) else {
            throw fail(["workload", "kind"], "workload.kind: expected \"graph\" or \"experiment\", found \"\(kindName)\"")
        }
        var workload = WorkloadSpec(kind: kind)
        let params = workloadParams[kind]!
        try onlyKeys(wl, "workload", workloadStrings[kind]!.union(params.keys))
        for k in wl.keys.sorted() where params[k] != nil {
            guard let v = SweepValue.from(wl[k]!) else { throw fail(["workload", k], "workload.\(k): expected \(params[k]!.kind)") }
            if let m = params[k]!.check(v) { throw fail(["workload", k], "workload.\(k): \(m)") }
            workload.params[k] = v
        }
        switch kind {
        case .graph:
            guard let g = try string(wl, "workload", "graph") else { throw fail(["workload"], "workload.graph: missing (required) for kind = \"graph\"") }
            workload.graphPath = relative(g)
            guard FileManager.default.fileExists(atPath: workload.graphPath!) else {
                throw fail(["workload", "graph"], "workload.graph: no such file \(workload.graphPath!)")
            }
            if let i = try string(wl, "workload", "input") {
                workload.inputPath = relative(i)
                guard FileManager.default.fileExists(atPath: workload.inputPath!) else {
                    throw fail(["workload", "input"], "workload.input: no such file \(workload.inputPath!)")
                }
            }
        case .experiment:
            if let g = try string(wl, "workload", "graph") {
                workload.graphPath = relative(g)
                guard FileManager.default.fileExists(atPath: workload.graphPath!) else {
                    throw fail(["workload", "graph"], "workload.graph: no such file \(workload.graphPath!)")
                }
            } else {
                let l = try string(wl, "workload", "lsm") ?? "paper"
                guard l == "paper" || l == "nalsm" else { throw fail(["workload", "lsm"], "workload.lsm: expected \"paper\" or \"nalsm\" (or give workload.graph)") }
                workload.lsm = l
            }
            let d = try string(wl, "workload", "data") ?? "digits-rate"
            if d == "digits" || d == "digits-rate" {
                workload.data = d
                let csv = try string(wl, "workload", "digits_csv").map(relative) ?? env.digitsCSV
                guard let c = csv, FileManager.default.fileExists(atPath: c) else {
                    throw fail(["workload", "data"], "workload.digits_csv: the digits CSV was not found (give workload.digits_csv)")
                }
                workload.digitsCSV = c
            } else {
                workload.data = relative(d)
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: workload.data!, isDirectory: &isDir), isDir.boolValue else {
                    throw fail(["workload", "data"], "workload.data: expected \"digits\", \"digits-rate\" or an N-MNIST folder; \(workload.data!) is not a folder")
                }
            }
        }

        // [compile]
        var compileSeed: UInt64? = nil
        var replicate = false
        if let cp = try table("compile", required: false) {
            try onlyKeys(cp, "compile", Set(compileParams.keys))
            if let s = try int(cp, "compile", "seed", min: 0, max: Int.max) { compileSeed = UInt64(s) }
            if let v = cp["replicate_macros"] {
                guard let b = v.bool else { throw fail(["compile", "replicate_macros"], "compile.replicate_macros: expected true or false") }
                replicate = b
            }
        }

        // [sampling]
        var method = SamplingMethod.grid
        var points: Int? = nil
        var samplingSeed = seed
        if let sm = try table("sampling", required: false) {
            try onlyKeys(sm, "sampling", ["method", "points", "seed"])
            if let m = try string(sm, "sampling", "method") {
                guard let mm = SamplingMethod(rawValue: m) else {
                    throw fail(["sampling", "method"], "sampling.method: expected one of grid, random, lhs; found \"\(m)\"")
                }
                method = mm
            }
            points = try int(sm, "sampling", "points", min: 1, max: 100_000_000)
            if let s = try int(sm, "sampling", "seed", min: 0, max: Int.max) { samplingSeed = UInt64(s) }
        }
        if method != .grid && points == nil {
            throw fail(["sampling", "method"], "sampling.points: required for method = \"\(method.rawValue)\"")
        }
        if method == .grid && points != nil {
            throw fail(["sampling", "points"], "sampling.points: only for random and lhs sampling (a grid has every combination)")
        }

        // [axes]
        var axes: [Axis] = []
        if let ax = try table("axes", required: false) {
            var found: [(path: [String], value: TOMLValueConvertible)] = []
            try leaves(ax, prefix: [], stopAtRanges: true) { p, v in found.append((p, v)) }
            for (p, v) in found {
                let name = p.joined(separator: ".")
                let line = text.line(["axes"] + p) ?? 0
                func bad(_ m: String) -> XbarError { fail(["axes"] + p, "axis \(name): \(m)") }
                let scope: Axis.Scope
                switch p[0] {
                case "compile": scope = .compile
                case "workload": scope = .workload
                default: scope = .target
                }
                let domain = try parseDomain(v, bad: bad)
                var axis = Axis(name: name, line: line, scope: scope, domain: domain)
                if case .interval = domain, method == .grid {
                    throw bad("a grid needs values: give a list, or a range with step, factor or count")
                }
                if scope == .target && !TargetOverride.tables.contains(p[0]) {
                    throw bad("unknown parameter: \(p[0]) is not a target table (\(TargetOverride.tables.sorted().joined(separator: ", "))), nor compile.* or workload.*")
                }
                // Every value (or both ends of an interval) must be valid on its own.
                let probes: [SweepValue]
                switch domain {
                case let .values(vs): probes = vs
                case let .interval(lo, hi, integer, _): probes = integer ? [.int(Int(lo)), .int(Int(hi))] : [.double(lo), .double(hi)]
                }
                switch scope {
                case .target:
                    for v in probes {
                        let t = try TOMLTable(string: baseTOML)
                        do { try TargetOverride.set(t, axis.path, v.toml) } catch let m as TargetOverride.Failure { throw bad(m.message) }
                        do {
                            _ = try TargetLoader.parse(t.convert(to: .toml), file: "<point>")
                        } catch let e as XbarError {
                            throw bad("value \(v): \(e.field == name ? "" : e.field + ": ")\(e.message)")
                        }
                    }
                case .compile:
                    guard p.count == 2, let prm = compileParams[p[1]] else {
                        throw bad("unknown parameter (compile parameters: \(compileParams.keys.sorted().map { "compile." + $0 }.joined(separator: ", ")))")
                    }
                    for v in probes { if let m = prm.check(v) { throw bad("value \(v): \(m)") } }
                case .workload:
                    guard p.count == 2, let prm = params[p[1]] else {
                        throw bad("unknown parameter (workload parameters of kind \(kind.rawValue): \(params.keys.sorted().map { "workload." + $0 }.joined(separator: ", ")))")
                    }
                    for v in probes { if let m = prm.check(v) { throw bad("value \(v): \(m)") } }
                }
                axis.line = line
                axes.append(axis)
            }
        }
        axes.sort { ($0.line, $0.name) < ($1.line, $1.name) }
        if axes.isEmpty { throw fail(["axes"], "[axes]: give at least one axis, e.g. \"adc.bits\" = [6, 8, 10]") }

        if metrics.contains(.accuracy) && kind == .graph {
            // Accuracy needs labelled input and a trained readout: checked now so no point runs in vain.
            guard let g = try? XbarGraphAccess.readoutTrained(workload.graphPath!), g else {
                throw fail(["sweep", "metrics"], "sweep.metrics: accuracy needs a graph with a trained readout (weights) or workload.kind = \"experiment\"")
            }
        }

        // The fingerprint of everything fixed.
        var fp: [(String, JSONValue)] = [("format", .string("neuroxbar-sweep-1")), ("target", .string(baseTOML))]
        var wj: [(String, JSONValue)] = [("kind", .string(kind.rawValue))]
        func digest(_ p: String) throws -> JSONValue { .string(SHA256.hex(Array(try AtomicFile.read(p)))) }
        if let g = workload.graphPath { wj.append(("graph_sha256", try digest(g))) }
        if let i = workload.inputPath { wj.append(("input_sha256", try digest(i))) }
        if let l = workload.lsm {
            wj.append(("lsm", .string(l)))
            if l == "paper" {
                wj.append(("paper_defaults", .array([env.paper.inputGain, env.paper.recurrentGain, env.paper.inputDensity,
                                                     env.paper.recurrentDensity].map { .double($0) })))
            }
        }
        if let d = workload.data {
            if d == "digits" || d == "digits-rate" {
                wj.append(("data", .string(d)))
                wj.append(("digits_sha256", try digest(workload.digitsCSV!)))
            } else {
                wj.append(("data_listing_sha256", .string(try folderDigest(d))))
            }
        }
        wj.append(("params", .object(workload.params.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })))
        fp.append(("workload", .object(wj)))
        fp.append(("compile", .object([("seed", compileSeed.map { .int(Int64($0)) } ?? .null), ("replicate_macros", .bool(replicate))])))
        fp.append(("seed", .int(Int64(seed))))
        fp.append(("metrics", .array(metrics.map(\.rawValue).sorted().map { .string($0) })))
        let fingerprint = SHA256.hex(JSONValue.object(fp).serialized(indent: nil))

        return SweepSpec(path: path, name: name, seed: seed, metrics: metrics, output: output, targetName: tref,
                         baseTOML: baseTOML, base: base, workload: workload, compileSeed: compileSeed, replicateMacros: replicate,
                         sampling: method, points: points, samplingSeed: samplingSeed, axes: axes, fingerprint: fingerprint, text: text)
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
