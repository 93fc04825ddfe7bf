import Foundation
import TOMLKit
import XbarCore
import XbarTarget

/// Reads a sweep specification (docs/sweep.md) section by section for `SweepSpecLoader.parse`: the parsed TOML, the
/// source text (for line numbers in errors) and the folder relative paths are resolved against.
struct SweepSpecReader {
    let path: String
    let text: SpecText
    let root: TOMLTable
    let env: SweepEnvironment
    let dir: String

    /// Parses `source` and refuses unknown sections.
    init(_ source: String, path: String, environment env: SweepEnvironment) throws {
        self.path = path
        self.env = env
        text = SpecText(source)
        dir = (path as NSString).deletingLastPathComponent
        root = try TOMLText.parse(source, file: path)
        for k in root.keys.sorted() where !SweepSpecLoader.sections.contains(k) {
            throw fail([k], "unknown section [\(k)] (expected one of: \(SweepSpecLoader.sections.sorted().joined(separator: ", ")))")
        }
    }
    /// An error at the line of key path `p` (or naming the path when it has no line).
    func fail(_ p: [String], _ m: String) -> XbarError {
        if let l = text.line(p) { return XbarError(file: path, field: "line \(l)", m) }
        return XbarError(file: path, field: p.joined(separator: "."), m)
    }
    /// Section `k` as a table (nil when absent and optional).
    func table(_ k: String, required: Bool) throws -> TOMLTable? {
        guard let v = root[k] else {
            if required { throw XbarError(file: path, field: "[\(k)]", "missing (required)") }
            return nil
        }
        guard let t = v.table else { throw fail([k], "\(k) must be a table [\(k)]") }
        return t
    }
    /// Refuses keys of `t` outside `allowed`.
    func onlyKeys(_ t: TOMLTable, _ section: String, _ allowed: Set<String>) throws {
        for k in t.keys.sorted() where !allowed.contains(k) {
            throw fail([section, k], "\(section).\(k): unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
    /// Integer key `k` of `t` within [min, max], or nil when absent.
    func int(_ t: TOMLTable, _ section: String, _ k: String, min: Int, max: Int) throws -> Int? {
        guard let v = t[k] else { return nil }
        guard let i = v.int else { throw fail([section, k], "\(section).\(k): expected an integer") }
        guard i >= min && i <= max else { throw fail([section, k], "\(section).\(k): \(i) out of range \(min)...\(max)") }
        return i
    }
    /// String key `k` of `t`, or nil when absent.
    func string(_ t: TOMLTable, _ section: String, _ k: String) throws -> String? {
        guard let v = t[k] else { return nil }
        guard let s = v.string else { throw fail([section, k], "\(section).\(k): expected a string") }
        return s
    }
    /// `p` resolved against the specification's folder.
    func relative(_ p: String) -> String {
        p.hasPrefix("/") ? p : ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(p)
    }

    /// [sweep]: name, seed, metrics, output.
    func sweepSection() throws -> (name: String, seed: UInt64, metrics: [Metric], output: String?) {
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

        return (name, seed, metrics, output)
    }

    /// [base] and [overrides]: the target reference, the base target with the overrides applied (TOML and loaded).
    func baseSection() throws -> (name: String, toml: String, target: Target) {
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
            try SweepSpecLoader.leaves(ov, prefix: []) { p, v in
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

        return (tref, baseTOML, base)
    }

    /// [workload]: its kind, settings and fixed parameters (and the parameter table of that kind).
    func workloadSection() throws -> (spec: WorkloadSpec, params: [String: SweepSpecLoader.Param]) {
        let wl = try table("workload", required: true)!
        guard let kindName = try string(wl, "workload", "kind") else {
            throw fail(["workload"], "workload.kind: missing (required): \"graph\" or \"experiment\"")
        }
        guard let kind = WorkloadSpec.Kind(rawValue: kindName) else {
            throw fail(["workload", "kind"], "workload.kind: expected \"graph\" or \"experiment\", found \"\(kindName)\"")
        }
        var workload = WorkloadSpec(kind: kind)
        let params = SweepSpecLoader.workloadParams[kind]!
        try onlyKeys(wl, "workload", SweepSpecLoader.workloadStrings[kind]!.union(params.keys))
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

        return (workload, params)
    }

    /// [compile]: the compile seed and macro replication.
    func compileSection() throws -> (seed: UInt64?, replicate: Bool) {
        var compileSeed: UInt64? = nil
        var replicate = false
        if let cp = try table("compile", required: false) {
            try onlyKeys(cp, "compile", Set(SweepSpecLoader.compileParams.keys))
            if let s = try int(cp, "compile", "seed", min: 0, max: Int.max) { compileSeed = UInt64(s) }
            if let v = cp["replicate_macros"] {
                guard let b = v.bool else { throw fail(["compile", "replicate_macros"], "compile.replicate_macros: expected true or false") }
                replicate = b
            }
        }

        return (compileSeed, replicate)
    }

    /// [sampling]: method, points and seed (the sweep's seed by default).
    func samplingSection(seed: UInt64) throws -> (method: SamplingMethod, points: Int?, seed: UInt64) {
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

        return (method, points, samplingSeed)
    }

    /// [axes]: every axis checked on its own (each value, or both ends of an interval), sorted by line.
    func axesSection(method: SamplingMethod, baseTOML: String,
                     workload: (spec: WorkloadSpec, params: [String: SweepSpecLoader.Param])) throws -> [Axis] {
        let kind = workload.spec.kind, params = workload.params
        var axes: [Axis] = []
        if let ax = try table("axes", required: false) {
            var found: [(path: [String], value: TOMLValueConvertible)] = []
            try SweepSpecLoader.leaves(ax, prefix: [], stopAtRanges: true) { p, v in found.append((p, v)) }
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
                let domain = try SweepSpecLoader.parseDomain(v, bad: bad)
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
                    guard p.count == 2, let prm = SweepSpecLoader.compileParams[p[1]] else {
                        throw bad("unknown parameter (compile parameters: \(SweepSpecLoader.compileParams.keys.sorted().map { "compile." + $0 }.joined(separator: ", ")))")
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

        return axes
    }

    /// Accuracy needs labelled input and a trained readout: checked now so no point runs in vain.
    func checkAccuracyInput(metrics: [Metric], workload: (spec: WorkloadSpec, params: [String: SweepSpecLoader.Param])) throws {
        let kind = workload.spec.kind
        if metrics.contains(.accuracy) && kind == .graph {
            // Accuracy needs labelled input and a trained readout: checked now so no point runs in vain.
            guard let g = try? XbarGraphAccess.readoutTrained(workload.spec.graphPath!), g else {
                throw fail(["sweep", "metrics"], "sweep.metrics: accuracy needs a graph with a trained readout (weights) or workload.kind = \"experiment\"")
            }
        }

    }

    /// The fingerprint of everything fixed (a results file is resumed only with the same one).
    func fingerprint(baseTOML: String, workload w: (spec: WorkloadSpec, params: [String: SweepSpecLoader.Param]),
                     compileSeed: UInt64?, replicate: Bool, seed: UInt64, metrics: [Metric]) throws -> String {
        let workload = w.spec, kind = w.spec.kind
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
                wj.append(("data_listing_sha256", .string(try SweepSpecLoader.folderDigest(d))))
            }
        }
        wj.append(("params", .object(workload.params.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })))
        fp.append(("workload", .object(wj)))
        fp.append(("compile", .object([("seed", compileSeed.map { .int(Int64($0)) } ?? .null), ("replicate_macros", .bool(replicate))])))
        fp.append(("seed", .int(Int64(seed))))
        fp.append(("metrics", .array(metrics.map(\.rawValue).sorted().map { .string($0) })))
        let fingerprint = SHA256.hex(JSONValue.object(fp).serialized(indent: nil))

        return fingerprint
    }
}
